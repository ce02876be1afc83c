// SMS texts from the shipped [sms] templates: the reference first, in the payment's language,
// English receipts in one 160-character segment, and the one-time code.
#include <catch2/catch.hpp>

#include "gateway/sms/texts.hpp"
#include "menus/text.hpp"

using namespace ussdpay;

namespace {

sms::receipt_context shipped() {
  auto r = menus::load_catalog(std::string(USSDPAY_SOURCE_DIR) + "/etc/menus");
  REQUIRE(r.errors.empty());
  return {[](std::string_view id) { return id == "lesco" ? "LESCO" : std::string(id); }, "111",
          std::make_shared<sms::sms_templates>(r.cat)};
}

store::payment_record payment(std::string language) {
  store::payment_record p;
  p.ref = "MD1RF81H3T";
  p.msisdn = "923001234567";
  p.biller = "lesco";
  p.account = "04123456789012";
  p.amount = 452'000;
  p.fee = 1'000;
  p.currency = "PKR";
  p.language = std::move(language);
  p.biller_reference = "DB6824765472";
  p.updated_at = 1'795'000'000'000;  // a fixed moment; shown in local time
  return p;
}

}  // namespace

TEST_CASE("receipts: English, reference first, one GSM segment", "[sms]") {
  const auto c = shipped();
  const auto text = sms::render_receipt(c, "confirmed", payment("en"), 9'548'000);
  CHECK(text.starts_with("Ref MD1RF81H3T PAID Rs4,520 to LESCO 04123456789012 on "));
  CHECK(text.ends_with(". Fee Rs10. Bal Rs95,480. LESCO ref DB6824765472"));
  const auto m = menus::measure(text);
  CHECK(m.enc == menus::encoding::gsm7);
  CHECK(m.length <= 160);
  // Every kind names the reference first and says what happened.
  CHECK(sms::render_receipt(c, "failed", payment("en"), 1).starts_with("Ref MD1RF81H3T FAILED"));
  CHECK(sms::render_receipt(c, "failed", payment("en"), 1).find("Rs4,530 refunded") !=
        std::string::npos);
  CHECK(
      sms::render_receipt(c, "reversed", payment("en"), 1).starts_with("Ref MD1RF81H3T REVERSED"));
  CHECK(sms::render_receipt(c, "pending", payment("en"), 1).find("Help 111") != std::string::npos);
}

TEST_CASE("receipts: in the language of the payment, unknown languages get the default", "[sms]") {
  const auto c = shipped();
  const auto ur = sms::render_receipt(c, "confirmed", payment("ur"), 9'548'000);
  CHECK(ur.starts_with("حوالہ MD1RF81H3T"));
  CHECK(menus::measure(ur).enc == menus::encoding::ucs2);
  CHECK(sms::render_receipt(c, "confirmed", payment("sw"), 1)
            .starts_with("Kumb MD1RF81H3T IMELIPWA"));
  CHECK(sms::render_receipt(c, "confirmed", payment("hi"), 1).starts_with("संदर्भ MD1RF81H3T"));
  CHECK(sms::render_receipt(c, "confirmed", payment("xx"), 1).starts_with("Ref MD1RF81H3T PAID"));
  CHECK(sms::render_receipt(c, "confirmed", payment(""), 1).starts_with("Ref MD1RF81H3T PAID"));
  // Without menus the receipt still carries the reference.
  sms::receipt_context none;
  CHECK(sms::render_receipt(none, "confirmed", payment("en"), 1) == "Ref MD1RF81H3T");
}

TEST_CASE("the one-time code SMS, in the dialog's language", "[sms]") {
  const auto c = shipped();
  const auto cat = c.templates->get();
  CHECK(sms::render_code(cat, *cat->language("en"), "493017", "5") ==
        "493017 is your Bill Pay code. It expires in 5 min. Never share it: we will never ask for "
        "it.");
  CHECK(
      sms::render_code(cat, *cat->language("sw"), "493017", "5").starts_with("493017 ni nambari"));
}

TEST_CASE("the PIN-locked SMS says for how long and how to reset it", "[sms]") {
  const auto c = shipped();
  const auto cat = c.templates->get();
  CHECK(sms::render_locked(cat, *cat->language("en"), 30, "*123#", "111") ==
        "Your Bill Pay PIN is locked for 30 min after wrong PINs. Not you? Call 111. Forgot it? "
        "Dial *123# > PIN > Forgot PIN.");
  for (const auto& lang : cat->languages) {
    const auto text = sms::render_locked(cat, *cat->language(lang), 30, "*123#", "111");
    INFO(lang << ": " << text);
    CHECK(text.find("30") != std::string::npos);
    CHECK(text.find("*123#") != std::string::npos);
  }
}
