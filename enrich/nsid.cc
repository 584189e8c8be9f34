// `nsid`: the sensor's label (option `label`, default the host name), so events from many
// sensors can be told apart. Not the EDNS NSID option (that is `edns.nsid`; see server_id).

#include "common/host_name.h"

#include "enrich/enricher.h"
#include "event/fields.h"

namespace stash53::enrich {
namespace {

const event::ValueField kNsid("nsid", event::FieldType::String, event::rank::kSensor,
                              "the sensor's label (`-N`, enricher `nsid`); not the EDNS NSID "
                              "option, which is `edns.nsid`");

class NsidEnricher final : public Enricher {
 public:
  explicit NsidEnricher(const EnricherSpec& spec) {
    label_ = host_name();
    spec.options->read("label", label_, "a string (the sensor's name)");
    if (label_.empty()) spec.options->fail("label", "must not be empty");
  }
  void enrich(decode::DnsEvent& ev) noexcept override {
    kNsid.set_text(ev, label_);
    hits_.add();
  }

 private:
  std::string label_;
};

}  // namespace

STASH53_REGISTER_ENRICHER("nsid", NsidEnricher, Annotate, true);

}  // namespace stash53::enrich
