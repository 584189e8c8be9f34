# cmake -DIN=file -DOUT=file.inc -P EmbedText.cmake: the file as one C++ raw string literal, for
# `#include` into a string_view (the live page is served from the binary, with no files to find).
file(READ "${IN}" content)
file(WRITE "${OUT}" "R\"stash53page(${content})stash53page\"\n")
