// nats_probe: the other end of the nats emitter, for its test and benchmark (Debian has no
// `nats` CLI). Two modes:
//   nats_probe publish SERVERS SUBJECT STREAM COUNT SIZE [MAX_PENDING]
//     a bare libnats JetStream publisher: COUNT messages of SIZE bytes, asynchronous, acked,
//     each with a Nats-Msg-Id; prints "messages=N seconds=S rate=R" (the ceiling).
//   nats_probe drain SERVERS STREAM SUBJECTS OUT IDLE_MS
//     reads the whole stream (SUBJECTS: its filter, e.g. dns.>) with an ephemeral pull
//     consumer (one acknowledgement per batch: AckAll), writes each message's payload as one
//     line to OUT, and stops after IDLE_MS without a message; prints
//     "messages=N stream_messages=M".
// SERVERS: nats://host:port[,nats://host:port...].
#include <nats/nats.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <string>
#include <vector>

namespace {

constexpr int kFetch = 512;

[[noreturn]] void die(const char* what, natsStatus s) {
  std::fprintf(stderr, "nats_probe: %s: %s (%s)\n", what, natsStatus_GetText(s), nats_GetLastError(nullptr));
  std::exit(1);
}

natsConnection* connect(const std::string& servers) {
  std::vector<std::string> urls;
  for (std::size_t at = 0; at <= servers.size();) {
    const auto comma = servers.find(',', at);
    urls.push_back(servers.substr(at, comma == std::string::npos ? std::string::npos : comma - at));
    if (comma == std::string::npos) break;
    at = comma + 1;
  }
  std::vector<const char*> raw;
  for (const auto& u : urls) raw.push_back(u.c_str());
  natsOptions* o = nullptr;
  natsStatus s = natsOptions_Create(&o);
  if (s == NATS_OK) s = natsOptions_SetServers(o, raw.data(), static_cast<int>(raw.size()));
  if (s == NATS_OK) s = natsOptions_SetMaxReconnect(o, 60);
  if (s == NATS_OK) s = natsOptions_SetReconnectWait(o, 250);
  if (s != NATS_OK) die("options", s);
  natsConnection* nc = nullptr;
  if ((s = natsConnection_Connect(&nc, o)) != NATS_OK) die("connect", s);
  natsOptions_Destroy(o);
  return nc;
}

int publish(const std::string& servers, const char* subject, const char* stream, long count,
            int size, long max_pending) {
  natsConnection* nc = connect(servers);
  jsOptions jo;
  jsOptions_Init(&jo);
  jo.PublishAsync.MaxPending = max_pending;
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, nc, &jo);
  if (s != NATS_OK) die("jetstream", s);
  const std::string payload(static_cast<std::size_t>(size), 'x');
  const auto start = std::chrono::steady_clock::now();
  jsPubOptions po;
  for (long i = 0; i < count; ++i) {
    const std::string id = "probe-" + std::to_string(i);
    jsPubOptions_Init(&po);
    po.MsgId = id.c_str();
    po.ExpectStream = stream;
    natsMsg* m = nullptr;
    natsMsg_Create(&m, subject, nullptr, payload.data(), size);
    while ((s = js_PublishMsgAsync(js, &m, &po)) == NATS_TIMEOUT) {}  // stalled at max_pending
    if (s != NATS_OK) die("publish", s);
  }
  jsPubOptions_Init(&po);
  po.MaxWait = 60'000;
  if ((s = js_PublishAsyncComplete(js, &po)) != NATS_OK) die("complete", s);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  std::printf("messages=%ld seconds=%.3f rate=%.0f\n", count, seconds, count / seconds);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}

int drain(const std::string& servers, const char* stream, const char* subjects, const char* out_path,
          int idle_ms) {
  natsConnection* nc = connect(servers);
  jsCtx* js = nullptr;
  natsStatus s = natsConnection_JetStream(&js, nc, nullptr);
  if (s != NATS_OK) die("jetstream", s);
  jsSubOptions so;
  jsSubOptions_Init(&so);
  so.Stream = stream;
  so.Config.AckPolicy = js_AckAll;  // one acknowledgement per fetched batch
  // Fetch returns when its batch is full or at its expiry: a batch above what the consumer may
  // leave unacknowledged (1000 by default) would always wait for the expiry.
  so.Config.MaxAckPending = 4 * kFetch;
  so.Config.DeliverPolicy = js_DeliverAll;
  natsSubscription* sub = nullptr;
  jsErrCode code{};
  if ((s = js_PullSubscribe(&sub, js, subjects, nullptr, nullptr, &so, &code)) != NATS_OK) die("subscribe", s);
  std::FILE* out = std::fopen(out_path, "w");
  if (out == nullptr) {
    std::perror(out_path);
    return 1;
  }
  long messages = 0;
  auto last = std::chrono::steady_clock::now();
  for (;;) {
    natsMsgList list{};
    s = natsSubscription_Fetch(&list, sub, kFetch, 1000, &code);
    if (s == NATS_OK) {
      for (int i = 0; i < list.Count; ++i) {
        std::fwrite(natsMsg_GetData(list.Msgs[i]), 1, static_cast<std::size_t>(natsMsg_GetDataLength(list.Msgs[i])), out);
        std::fputc('\n', out);
      }
      if (list.Count > 0) natsMsg_Ack(list.Msgs[list.Count - 1], nullptr);
      messages += list.Count;
      natsMsgList_Destroy(&list);
      last = std::chrono::steady_clock::now();
      continue;
    }
    if (s != NATS_TIMEOUT) die("fetch", s);
    if (std::chrono::steady_clock::now() - last > std::chrono::milliseconds(idle_ms)) break;
  }
  std::fclose(out);
  jsStreamInfo* info = nullptr;
  unsigned long long in_stream = 0;
  if (js_GetStreamInfo(&info, js, stream, nullptr, &code) == NATS_OK) {
    in_stream = info->State.Msgs;
    jsStreamInfo_Destroy(info);
  }
  std::printf("messages=%ld stream_messages=%llu\n", messages, in_stream);
  natsSubscription_Destroy(sub);
  jsCtx_Destroy(js);
  natsConnection_Destroy(nc);
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  const std::string mode = argc > 1 ? argv[1] : "";
  if (mode == "publish" && (argc == 7 || argc == 8))
    return publish(argv[2], argv[3], argv[4], std::atol(argv[5]), std::atoi(argv[6]),
                   argc == 8 ? std::atol(argv[7]) : 4096);
  if (mode == "drain" && argc == 7) return drain(argv[2], argv[3], argv[4], argv[5], std::atoi(argv[6]));
  std::fprintf(stderr,
               "usage: nats_probe publish SERVERS SUBJECT STREAM COUNT SIZE [MAX_PENDING]\n"
               "       nats_probe drain SERVERS STREAM SUBJECTS OUT IDLE_MS\n");
  return 2;
}
