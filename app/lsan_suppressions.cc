// Linked into stash53 only with -DSTASH53_SANITIZE=ON: what LeakSanitizer must not report.
//
// Paho C 1.3.12 (Debian 12) does not free the PUBLISH commands still queued when the broker
// goes away and the client is then destroyed (eclipse-paho/paho.mqtt.c#1474). The mqtt emitter
// destroys its client after every lost connection, so each broker outage leaks those commands
// inside libpaho-mqtt3as; nothing of ours is involved.
extern "C" const char* __lsan_default_suppressions() { return "leak:libpaho-mqtt3as.so\n"; }
