/* pcap_floor FILE: reads every packet of a capture with pcap_next_ex and prints their count.
 * The libpcap floor for bench/performance.sh: what merely reading the file costs, with no
 * decoding at all, so the other tools' rates can be seen against it. */
#include <pcap/pcap.h>
#include <stdio.h>

int main(int argc, char **argv) {
    if (argc != 2) {
        fprintf(stderr, "usage: %s FILE\n", argv[0]);
        return 2;
    }
    char err[PCAP_ERRBUF_SIZE];
    pcap_t *p = pcap_open_offline(argv[1], err);
    if (!p) {
        fprintf(stderr, "%s: %s\n", argv[1], err);
        return 1;
    }
    struct pcap_pkthdr *h;
    const unsigned char *data;
    unsigned long long packets = 0, bytes = 0;
    int rc;
    while ((rc = pcap_next_ex(p, &h, &data)) == 1) {
        packets++;
        bytes += h->caplen; /* touch the header, so the loop cannot be optimised away */
    }
    if (rc == PCAP_ERROR) {
        fprintf(stderr, "%s: %s\n", argv[1], pcap_geterr(p));
        pcap_close(p);
        return 1;
    }
    printf("packets=%llu bytes=%llu\n", packets, bytes);
    pcap_close(p);
    return 0;
}
