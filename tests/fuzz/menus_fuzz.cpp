// libFuzzer target for the menu loader and engine: menus come from files operators edit, so
// every byte is untrusted. The input is up to three parts separated by NUL bytes: menu.toml,
// text.en.toml (the only language), and the subscriber's inputs, one per line. Whatever loads
// is walked with those inputs; every action is answered with an outcome chosen by the input.
#include <cstddef>
#include <cstdint>
#include <string>
#include <string_view>

#include "menus/engine.hpp"

using namespace ussdpay::menus;

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string_view in(reinterpret_cast<const char*>(data), size);
  const auto a = in.find('\0');
  const std::string_view menu = in.substr(0, a);
  std::string_view rest = a == std::string_view::npos ? std::string_view() : in.substr(a + 1);
  const auto b = rest.find('\0');
  const std::string_view text = rest.substr(0, b);
  std::string_view inputs = b == std::string_view::npos ? std::string_view() : rest.substr(b + 1);

  auto r = load_catalog_from(menu, {{"en", std::string(text)}});
  if (!r.cat) {
    (void)format_errors(r.errors);
    return 0;
  }
  dialog_state s;
  step st = begin(s, r.cat, 0, inputs.substr(0, inputs.find('\n')));
  for (int hops = 0; hops < 64 && !inputs.empty(); ++hops) {
    const auto nl = inputs.find('\n');
    const std::string_view line = inputs.substr(0, nl);
    inputs = nl == std::string_view::npos ? std::string_view() : inputs.substr(nl + 1);
    if (st.kind == step::kind_t::end) break;
    if (st.kind == step::kind_t::action) {
      // The first byte of the line picks the outcome; a list gets as many items as the length.
      const auto o = static_cast<outcome>((line.empty() ? 0 : static_cast<unsigned char>(line[0])) %
                                          static_cast<unsigned>(outcome::count_));
      for (std::size_t i = 0; i < line.size() % 20; ++i) {
        list_item item;
        item.set(0, std::string(line));
        item.set(1, "Item " + std::to_string(i));
        s.items.push_back(std::move(item));
      }
      s.set(ussdpay::menus::var_id::bill_amount, std::string(line));
      st = resume(s, o);
    } else {
      st = input(s, line);
    }
    (void)measure(st.text);
  }
  return 0;
}
