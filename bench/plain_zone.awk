# The plain benchmark zone (make_capture.sh, live.sh): h0..h(n-1).bench.test, each with A, AAAA,
# MX and a two-string TXT.  Usage: awk -v n=3000 -f bench/plain_zone.awk > bench.test
BEGIN {
    print "$ORIGIN bench.test.\n$TTL 300"
    print "@ IN SOA ns1.bench.test. hostmaster.bench.test. 1 7200 3600 1209600 300"
    print "@ IN NS ns1.bench.test.\nns1 IN A 127.0.0.1"
    for (i = 0; i < n; i++) {
        printf "h%d IN A 198.51.100.%d\nh%d IN AAAA 2001:db8::%x\n", i, i % 256, i, i
        printf "h%d IN MX 10 mx%d.bench.test.\n", i, i % 16
        printf "h%d IN TXT \"host %d\" \"bench\"\n", i, i
    }
}
