// null: accepts and discards events; for benchmarks and for measuring the pipeline alone.
#include "emitters/queued_emitter.h"

namespace stash53::emitters {
namespace {

class NullEmitter final : public QueuedEmitter {
 public:
  explicit NullEmitter(const EmitterSpec& spec) : QueuedEmitter(spec) {}

 private:
  std::string destination() const override { return "(discarded)"; }
  bool connect() override { return true; }
  SendResult send(std::span<const QueuedEvent>) override { return SendResult::Ok; }
  void disconnect() noexcept override {}
};

}  // namespace
STASH53_REGISTER_EMITTER("null", NullEmitter);
}  // namespace stash53::emitters
