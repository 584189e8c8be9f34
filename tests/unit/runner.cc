// The unit test module: every tests/unit/test_<file>.cc is one suite, run per CTest entry.
#define BOOST_TEST_MODULE stash53
#include <boost/test/unit_test.hpp>
