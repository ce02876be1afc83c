#include "menus/engine.hpp"

#include <algorithm>
#include <charconv>

#include "menus/check_digit.hpp"
#include "menus/format.hpp"

namespace ussdpay::menus {

const std::string* list_item::get(std::uint16_t field) const {
  for (const auto& [k, v] : fields)
    if (k == field) return &v;
  return nullptr;
}

void list_item::set(std::uint16_t field, std::string value) {
  for (auto& [k, v] : fields)
    if (k == field) {
      v = std::move(value);
      return;
    }
  fields.emplace_back(field, std::move(value));
}

const std::string* dialog_state::get(std::uint16_t id) const {
  for (const auto& [k, v] : vars)
    if (k == id) return &v;
  return nullptr;
}

namespace {

void wipe(std::string& s) {
  volatile char* p = s.data();
  for (std::size_t i = 0; i < s.size(); ++i) p[i] = 0;
  s.clear();
}

}  // namespace

void dialog_state::set(std::uint16_t id, std::string value) {
  if (id == index(var_id::language) && cat)
    if (auto l = cat->language(value)) lang = *l;
  for (auto& [k, v] : vars)
    if (k == id) {
      if (var(id).type == var_type::secret) wipe(v);
      v = std::move(value);
      return;
    }
  vars.emplace_back(id, std::move(value));
}

void dialog_state::erase(std::uint16_t id) {
  std::erase_if(vars, [&](auto& kv) {
    if (kv.first != id) return false;
    wipe(kv.second);
    return true;
  });
}

void dialog_state::wipe_secrets() {
  std::erase_if(vars, [](auto& kv) {
    if (var(kv.first).type != var_type::secret) return false;
    wipe(kv.second);
    return true;
  });
}

bool dialog_state::expects_secret() const {
  if (!cat || screen == no_screen) return false;
  const auto& s = cat->screens[screen];
  return s.has_input && var(s.input_var).type == var_type::secret;
}

namespace {

using kind = screen_def::kind_t;

const std::string& currency_of(const dialog_state& s) {
  static const std::string pkr = "PKR";
  const auto* c = s.get(index(var_id::currency));
  return c ? *c : pkr;
}

std::string value_text(const dialog_state& s, const template_part& p, const list_item* item) {
  const std::string* v = p.item ? (item ? item->get(p.var) : nullptr) : s.get(p.var);
  if (v == nullptr) return {};
  const var_def& d = p.item ? item_fields()[p.var] : var(p.var);
  std::string out;
  switch (d.type) {
    case var_type::money: {
      std::int64_t minor = 0;
      auto [e, ec] = std::from_chars(v->data(), v->data() + v->size(), minor);
      out = ec == std::errc() && e == v->data() + v->size() ? format_money(minor, currency_of(s))
                                                            : *v;
      break;
    }
    case var_type::date:
      out = format_date(*v);
      break;
    case var_type::secret:
      break;  // the loader refuses secrets in templates; never shown regardless
    case var_type::text:
      out = *v;
      break;
  }
  if (p.f == filter::last4 && out.size() > 4) out = ".." + out.substr(out.size() - 4);
  if (p.f == filter::name) {
    auto it = s.cat->names.find(out);
    if (it != s.cat->names.end()) {
      std::string named;
      for (const auto& q : s.cat->texts[s.lang][it->second]) named += q.literal;
      out = std::move(named);
    }
  }
  return out;
}

std::string render(const dialog_state& s, std::uint16_t msg, const list_item* item = nullptr) {
  std::string out;
  for (const auto& p : s.cat->texts[s.lang][msg]) {
    if (p.var == 0xFFFF)
      out += p.literal;
    else
      out += value_text(s, p, item);
  }
  return out;
}

std::uint16_t sys(const catalog& c, sys_msg m) {
  return c.sys[static_cast<std::size_t>(m)];
}

bool holds(const dialog_state& s, const condition& c) {
  if (c.var == 0xFFFF) return true;
  const std::string* v = s.get(c.var);
  switch (c.test) {
    case condition::op::set:
      return v != nullptr && !v->empty();
    case condition::op::unset:
      return v == nullptr || v->empty();
    case condition::op::eq:
      return v != nullptr && *v == c.value;
    case condition::op::ne:
      return v == nullptr || *v != c.value;
  }
  return false;
}

std::size_t screen_length(const catalog& c, std::string_view text) {
  auto m = measure(text);
  return m.enc == encoding::gsm7 ? std::min(m.length, c.limits.gsm + 1)
                                 : m.length * c.limits.gsm / c.limits.ucs2;  // scaled to GSM
}

bool fits(const catalog& c, std::string_view text) {
  return screen_length(c, text) <= c.limits.gsm;
}

/// The first item of each page: as many items as fit with the screen's other lines.
std::vector<std::size_t> pages(const dialog_state& s, const std::string& fixed_head,
                               const std::string& fixed_tail) {
  std::vector<std::size_t> starts{0};
  const auto& c = *s.cat;
  const std::string more = "\n98. " + render(s, sys(c, sys_msg::more));
  std::string page = fixed_head;
  std::size_t on_page = 0;
  for (std::size_t i = 0; i < s.items.size(); ++i) {
    const std::string line =
        "\n" + std::to_string(i + 1) + ". " + render(s, c.screens[s.screen].item_text, &s.items[i]);
    const bool last = i + 1 == s.items.size();
    if (on_page > 0 && !fits(c, page + line + fixed_tail + (last ? "" : more))) {
      starts.push_back(i);
      page = fixed_head;
      on_page = 0;
    }
    page += line;
    ++on_page;
  }
  return starts;
}

/// Static options visible now, with their numbers after the list items.
std::vector<std::pair<std::size_t, const option_def*>> visible_options(const dialog_state& s) {
  std::vector<std::pair<std::size_t, const option_def*>> out;
  std::size_t n = s.items.size();
  for (const auto& o : s.cat->screens[s.screen].options)
    if (holds(s, o.when)) out.emplace_back(++n, &o);
  return out;
}

step show(const dialog_state& s) {
  const auto& c = *s.cat;
  const auto& sc = c.screens[s.screen];
  step st;
  st.kind = sc.kind == kind::end ? step::kind_t::end : step::kind_t::show;
  std::string head;
  if (s.error != 0xFF) head = render(s, c.sys[s.error]) + "\n";
  head += render(s, sc.text);
  std::string tail;
  for (const auto& [n, o] : visible_options(s))
    tail += "\n" + std::to_string(n) + ". " + render(s, o->label);
  std::string nav;
  if (sc.back) nav += "\n0. " + render(s, sys(c, sys_msg::back));
  if (sc.home) nav += "\n00. " + render(s, sys(c, sys_msg::home));
  tail += nav;
  std::string body = head;
  if (sc.has_list && !s.items.empty()) {
    const auto starts = pages(s, head, tail);
    const std::size_t p = std::min<std::size_t>(s.page, starts.size() - 1);
    const std::size_t end = p + 1 < starts.size() ? starts[p + 1] : s.items.size();
    for (std::size_t i = starts[p]; i < end; ++i)
      body += "\n" + std::to_string(i + 1) + ". " + render(s, sc.item_text, &s.items[i]);
    if (end < s.items.size()) body += "\n98. " + render(s, sys(c, sys_msg::more));
  }
  body += tail;
  // A screen that would not fit (unusually long values): drop the error line, then cut the text
  // at a character boundary. The loader's worst-case check makes this rare.
  if (!fits(c, body) && s.error != 0xFF) {
    body.erase(0, body.find('\n') + 1);
  }
  while (!fits(c, body) && !body.empty()) {
    body.pop_back();
    while (!body.empty() && (static_cast<unsigned char>(body.back()) & 0xC0) == 0x80)
      body.pop_back();
    if (!body.empty() && static_cast<unsigned char>(body.back()) >= 0xC0) body.pop_back();
  }
  st.text = std::move(body);
  return st;
}

step try_again(dialog_state& s) {
  step st;
  st.kind = step::kind_t::end;
  st.text = render(s, sys(*s.cat, sys_msg::try_again));
  s.screen = no_screen;
  return st;
}

step arrive(dialog_state& s);
step apply_shortcut(dialog_state& s, step st);

void assign(dialog_state& s, const transition& t, const list_item* item) {
  for (const auto& a : t.set) {
    if (a.from == 0xFFFF) {
      s.set(a.var, a.literal);
    } else if (a.from_item) {
      const std::string* v = item ? item->get(a.from) : nullptr;
      s.set(a.var, v ? *v : std::string());
    } else {
      const std::string* v = s.get(a.from);
      s.set(a.var, v ? *v : std::string());
    }
  }
}

step go_to(dialog_state& s, std::uint16_t target, bool push = true) {
  if (target == no_screen) return try_again(s);
  if (push && s.screen != no_screen && s.screen != target) {
    if (s.depth == dialog_state::max_depth) {  // forget the oldest
      std::move(s.stack.begin() + 1, s.stack.end(), s.stack.begin());
      --s.depth;
    }
    s.stack[s.depth++] = s.screen;
  }
  s.screen = target;
  return arrive(s);
}

step follow(dialog_state& s, const transition& t, const list_item* item) {
  assign(s, t, item);
  if (t.action != no_action) {
    s.waiting = dialog_state::wait_t::transition;
    s.pending = &t;
    step st;
    st.kind = step::kind_t::action;
    st.action = t.action;
    return st;
  }
  return go_to(s, t.target);
}

/// On arrival at s.screen: fetch its list or run its enter action, else show it.
step arrive(dialog_state& s) {
  const auto& sc = s.cat->screens[s.screen];
  s.page = 0;
  s.items.clear();
  step st;
  if (sc.has_list || sc.has_enter) {
    s.waiting = sc.has_list ? dialog_state::wait_t::list : dialog_state::wait_t::enter;
    s.pending = sc.has_list ? nullptr : &sc.enter;
    st.kind = step::kind_t::action;
    st.action = sc.has_list ? sc.list_action : sc.enter.action;
    return st;
  }
  return show(s);
}

step invalid(dialog_state& s, sys_msg m) {
  s.error = static_cast<std::uint8_t>(m);
  step st = show(s);
  s.error = 0xFF;
  return st;
}

bool all_digits(std::string_view v) {
  return !v.empty() && std::all_of(v.begin(), v.end(), [](char c) { return c >= '0' && c <= '9'; });
}

std::size_t number_or(const std::string* v, std::size_t fallback) {
  if (v == nullptr) return fallback;
  std::size_t n = 0;
  auto [e, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  return ec == std::errc() && e == v->data() + v->size() ? n : fallback;
}

std::optional<std::int64_t> money_var(const dialog_state& s, var_id name) {
  const std::string* v = s.get(index(name));
  if (v == nullptr || v->empty()) return std::nullopt;
  std::int64_t n = 0;
  auto [e, ec] = std::from_chars(v->data(), v->data() + v->size(), n);
  if (ec != std::errc() || e != v->data() + v->size()) return std::nullopt;
  return n;
}

/// Validates and normalises an input; on failure returns the error to show.
std::optional<sys_msg> validate(dialog_state& s, const screen_def& sc, std::string& v) {
  switch (sc.rule) {
    case input_rule::pin:
      return v.size() == 4 && all_digits(v) ? std::nullopt : std::optional(sys_msg::pin_format);
    case input_rule::digits:
    case input_rule::code:
      if (!all_digits(v)) return sys_msg::not_digits;
      if (v.size() < sc.min_len) return sys_msg::too_short;
      if (v.size() > sc.max_len) return sys_msg::too_long;
      return std::nullopt;
    case input_rule::account: {
      const std::string* check = s.get(index(var_id::biller_account_check));
      const std::size_t mn = number_or(s.get(index(var_id::biller_account_min)), sc.min_len);
      const std::size_t mx = number_or(s.get(index(var_id::biller_account_max)), sc.max_len);
      if (!all_digits(v)) return sys_msg::not_digits;
      if (v.size() < mn) return sys_msg::too_short;
      if (v.size() > mx) return sys_msg::too_long;
      if (check != nullptr && *check == "luhn" && !luhn_ok(v)) return sys_msg::bad_account;
      if (check != nullptr && *check == "mod11" && !mod11_ok(v)) return sys_msg::bad_account;
      return std::nullopt;
    }
    case input_rule::amount: {
      auto a = parse_money(v, currency_of(s));
      if (!a || *a <= 0) return sys_msg::bad_amount;
      const auto due = money_var(s, var_id::bill_amount);
      const std::string* rule = s.get(index(var_id::biller_exactness));
      if (due && rule != nullptr) {
        if (*rule == "exact" && *a != *due) return sys_msg::amount_exact;
        if (*rule == "at_least" && *a < *due) return sys_msg::amount_low;
        if (*rule == "at_most" && *a > *due) return sys_msg::amount_high;
      }
      if (auto mn = money_var(s, var_id::bill_min); mn && *a < *mn) return sys_msg::amount_low;
      if (auto mx = money_var(s, var_id::bill_max); mx && *a > *mx) return sys_msg::amount_high;
      v = std::to_string(*a);
      return std::nullopt;
    }
    case input_rule::money: {
      auto a = parse_money(v, currency_of(s));
      if (!a || *a <= 0) return sys_msg::bad_amount;
      v = std::to_string(*a);
      return std::nullopt;
    }
    case input_rule::text:
      if (v.size() < sc.min_len) return sys_msg::too_short;
      if (v.size() > sc.max_len) return sys_msg::too_long;
      for (const char ch : v)
        if (const auto c = static_cast<unsigned char>(ch); c < 0x20 || c == '*' || c == '#')
          return sys_msg::invalid_choice;
      return std::nullopt;
  }
  return sys_msg::invalid_choice;
}

std::optional<std::size_t> choice(std::string_view v) {
  if (v.empty() || v.size() > 2 || !all_digits(v) || v[0] == '0') return std::nullopt;
  std::size_t n = 0;
  std::from_chars(v.data(), v.data() + v.size(), n);
  return n;
}

step handle(dialog_state& s, std::string_view raw) {
  if (s.screen == no_screen) return try_again(s);
  const auto& sc = s.cat->screens[s.screen];
  // Trim what handsets add around the digits.
  while (!raw.empty() && (raw.front() == ' ' || raw.front() == '\r' || raw.front() == '\n'))
    raw.remove_prefix(1);
  while (!raw.empty() && (raw.back() == ' ' || raw.back() == '\r' || raw.back() == '\n'))
    raw.remove_suffix(1);
  if (raw.size() > 64) return invalid(s, sys_msg::too_long);
  if (raw == "00" && sc.home) {
    s.depth = 0;
    s.screen = s.cat->start;
    return arrive(s);
  }
  if (raw == "0" && sc.back) {
    if (s.page > 0) {
      --s.page;
      return show(s);
    }
    if (s.depth == 0) return go_to(s, s.cat->start, false);
    s.screen = s.stack[--s.depth];
    return arrive(s);
  }
  if (raw == "98" && sc.has_list) {
    ++s.page;
    step st = show(s);
    return st;
  }
  if (raw.empty()) return invalid(s, sc.has_input ? sys_msg::too_short : sys_msg::invalid_choice);

  // A number picks a list item or an option (also on input screens with a list of shortcuts).
  if (auto n = choice(raw); n && (!sc.has_input || (sc.has_list && *n <= s.items.size()))) {
    if (*n >= 1 && *n <= s.items.size()) {
      const list_item item = s.items[*n - 1];
      return follow(s, sc.select, &item);
    }
    for (const auto& [num, o] : visible_options(s))
      if (num == *n) return follow(s, o->then, nullptr);
  }
  if (!sc.has_input) return invalid(s, sys_msg::invalid_choice);
  std::string v(raw);
  if (auto e = validate(s, sc, v)) {
    if (secret_rule(sc.rule)) wipe(v);
    return invalid(s, *e);
  }
  s.set(sc.input_var, std::move(v));
  return follow(s, sc.then, nullptr);
}

/// Applies the remaining shortcut inputs while the dialog shows plain screens.
step apply_shortcut(dialog_state& s, step st) {
  while (!s.shortcut.empty() && st.kind == step::kind_t::show && !s.waiting_for_action()) {
    if (s.expects_secret() || s.error != 0xFF) {  // never take a PIN from a dial string
      s.shortcut.clear();
      break;
    }
    const auto star = s.shortcut.find('*');
    const std::string next = s.shortcut.substr(0, star);
    s.shortcut.erase(0, star == std::string::npos ? std::string::npos : star + 1);
    const std::uint16_t before = s.screen;
    st = handle(s, next);
    // An input the screen refused stops the shortcut where it is, with its error shown.
    if (s.screen == before && st.kind == step::kind_t::show && !s.waiting_for_action()) {
      s.shortcut.clear();
      break;
    }
  }
  if (st.kind != step::kind_t::show) {
    if (st.kind == step::kind_t::end) s.shortcut.clear();
  }
  return st;
}

}  // namespace

step begin(dialog_state& s, std::shared_ptr<const catalog> cat, std::uint8_t lang,
           std::string_view shortcut) {
  s.cat = std::move(cat);
  s.lang = lang < s.cat->languages.size() ? lang : s.cat->default_language;
  s.depth = 0;
  s.page = 0;
  s.error = 0xFF;
  s.waiting = dialog_state::wait_t::none;
  s.pending = nullptr;
  s.items.clear();
  // At most 8 inputs of 24 characters; anything longer is ignored (the menu starts at the top).
  s.shortcut.clear();
  if (shortcut.size() <= 8 * 25) {
    std::size_t parts = 1;
    for (char c : shortcut) parts += c == '*';
    if (parts <= 8) s.shortcut = std::string(shortcut);
  }
  s.screen = s.cat->start;
  return apply_shortcut(s, arrive(s));
}

step input(dialog_state& s, std::string_view text) {
  if (s.waiting_for_action()) return redisplay(s);  // a reply while we fetch: ignore it
  s.shortcut.clear();
  return handle(s, text);
}

step resume(dialog_state& s, outcome o) {
  const auto waiting = s.waiting;
  const transition* t = s.pending;
  s.waiting = dialog_state::wait_t::none;
  s.pending = nullptr;
  step st;
  switch (waiting) {
    case dialog_state::wait_t::none:
      return redisplay(s);
    case dialog_state::wait_t::transition:
      st = go_to(s, t->on[static_cast<std::size_t>(o)]);
      // A PIN serves one action, then is gone, unless the next screen asks for another one of
      // the same exchange (a weak new PIN keeps the old PIN for the retry). A one-time code
      // serves exactly one action.
      if (!s.expects_secret() || s.waiting_for_action()) s.wipe_secrets();
      s.erase(var_id::code);
      break;
    case dialog_state::wait_t::list: {
      if (s.items.size() > dialog_state::max_items) s.items.resize(dialog_state::max_items);
      const auto& sc = s.cat->screens[s.screen];
      if (o == outcome::ok && !s.items.empty())
        st = show(s);
      else if ((o == outcome::ok || o == outcome::empty) && sc.on_empty != no_screen)
        st = go_to(s, sc.on_empty, false);
      else if (o == outcome::ok || o == outcome::empty)
        st = show(s);
      else
        st = try_again(s);
      break;
    }
    case dialog_state::wait_t::enter:
      // on.ok naming this screen shows it; naming another forwards there (a gate screen).
      if (o == outcome::ok && t->on[static_cast<std::size_t>(o)] == s.screen)
        st = show(s);
      else
        st = go_to(s, t->on[static_cast<std::size_t>(o)], false);
      break;
  }
  return apply_shortcut(s, std::move(st));
}

step redisplay(const dialog_state& s) {
  if (!s.cat || s.screen == no_screen) return {step::kind_t::end, {}, no_action};
  return show(s);
}

std::string system_text(const dialog_state& s, std::string_view key) {
  auto it = s.cat->system.find(key);
  if (it == s.cat->system.end() || s.lang >= s.cat->texts.size()) return std::string(key);
  return render(s, it->second);
}

std::string sms_text(const std::shared_ptr<const catalog>& cat, std::uint8_t lang,
                     std::string_view key, std::span<const std::pair<var_id, std::string>> vars) {
  if (!cat || lang >= cat->texts.size()) return {};
  auto it = cat->sms.find(key);
  if (it == cat->sms.end()) return {};
  dialog_state s;
  s.cat = cat;
  s.lang = lang;
  for (const auto& [name, value] : vars) s.set(name, value);
  std::string out = render(s, it->second);
  // The values may include a one-time code: overwritten, not just freed.
  for (auto& [id, value] : s.vars) std::fill(value.begin(), value.end(), '\0');
  return out;
}

}  // namespace ussdpay::menus
