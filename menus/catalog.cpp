#include "menus/catalog.hpp"

#include <algorithm>
#include <deque>
#include <fstream>
#include <set>
#include <sstream>

#include <fmt/format.h>
#include <toml++/toml.h>

namespace ussdpay::menus {

std::optional<std::uint8_t> catalog::language(std::string_view code) const {
  for (std::size_t i = 0; i < languages.size(); ++i)
    if (languages[i] == code) return static_cast<std::uint8_t>(i);
  return std::nullopt;
}

std::optional<std::uint16_t> catalog::screen(std::string_view id) const {
  for (std::size_t i = 0; i < screens.size(); ++i)
    if (screens[i].id == id) return static_cast<std::uint16_t>(i);
  return std::nullopt;
}

namespace {

constexpr std::size_t max_file_bytes = 1 << 20;
constexpr std::size_t max_screens = 500;
constexpr std::size_t max_options = 9;
constexpr std::size_t max_languages = 8;
constexpr std::size_t max_text_bytes = 1000;

constexpr std::array<std::string_view, static_cast<std::size_t>(sys_msg::count_)> sys_keys{
    "nav.back",          "nav.home",          "nav.more",           "errors.invalid_choice",
    "errors.not_digits", "errors.too_short",  "errors.too_long",    "errors.bad_account",
    "errors.bad_amount", "errors.amount_low", "errors.amount_high", "errors.amount_exact",
    "errors.pin_format", "errors.try_again"};

/// [system] texts the gateway shows outside the menus.
constexpr std::array<std::string_view, 7> system_keys{
    "system.busy",        "system.unknown_code", "system.ended", "system.expired",
    "system.unavailable", "system.slow",         "system.resume"};

/// [sms] texts: what the gateway sends by SMS, in the subscriber's language. Checked against
/// three segments (sms_limit_*); the English receipts are kept to one in practice.
constexpr std::array<std::string_view, 11> sms_keys{
    "sms.confirmed",    "sms.failed",        "sms.reversed",     "sms.pending",
    "sms.code",         "sms.locked",        "sms.reminder",     "sms.autopay_on",
    "sms.autopay_over", "sms.autopay_funds", "sms.autopay_limit"};
constexpr std::size_t sms_limit_gsm = 3 * 153, sms_limit_ucs2 = 3 * 67;

bool valid_id(std::string_view id) {
  if (id.empty() || id.size() > 32) return false;
  for (char c : id)
    if (!((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '_')) return false;
  return true;
}

std::uint32_t line_of(const toml::node& n) {
  return n.source().begin.line;
}

class loader {
 public:
  loader(const length_limits& limits, std::string dir) : dir_(std::move(dir)) {
    cat_->limits = limits;
    cat_->source = dir_;
  }

  load_result run(std::string_view menu_toml, const std::map<std::string, std::string>& texts) {
    menu_file_ = dir_.empty() ? "menu.toml" : dir_ + "/menu.toml";
    toml::table root;
    if (!parse(menu_toml, menu_file_, root)) return finish();
    read_menu(root);
    if (!errors_.empty()) return finish();
    for (std::size_t i = 0; i < sys_keys.size(); ++i)
      cat_->sys[i] = message(std::string(sys_keys[i]));
    for (auto k : system_keys)
      cat_->system.emplace(std::string(k.substr(7)), message(std::string(k)));
    for (auto k : sms_keys) cat_->sms.emplace(std::string(k.substr(4)), message(std::string(k)));
    read_screens(root);
    if (!errors_.empty()) return finish();
    read_texts(texts);
    if (!errors_.empty()) return finish();
    check_reachable();
    check_lengths();
    return finish();
  }

 private:
  load_result finish() {
    load_result r;
    r.errors = std::move(errors_);
    if (r.errors.empty()) r.cat = std::move(cat_);
    return r;
  }

  void error(const std::string& file, std::uint32_t line, std::string screen, std::string lang,
             std::string msg) {
    if (errors_.size() < 200)
      errors_.push_back({file, line, std::move(screen), std::move(lang), std::move(msg)});
  }

  bool parse(std::string_view text, const std::string& file, toml::table& out) {
    if (text.size() > max_file_bytes) {
      error(file, 0, "", "", fmt::format("larger than {} bytes", max_file_bytes));
      return false;
    }
    try {
      out = toml::parse(text, file);
    } catch (const toml::parse_error& e) {
      error(file, e.source().begin.line, "", "", std::string(e.description()));
      return false;
    }
    return true;
  }

  std::uint16_t message(const std::string& key) {
    auto [it, added] =
        message_ids_.emplace(key, static_cast<std::uint16_t>(cat_->message_keys.size()));
    if (added) cat_->message_keys.push_back(key);
    return it->second;
  }

  void read_menu(const toml::table& root) {
    const auto* menu = root["menu"].as_table();
    if (menu == nullptr) {
      error(menu_file_, 0, "", "", "missing [menu] table");
      return;
    }
    for (auto&& [k, v] : *menu)
      if (k != "start" && k != "languages" && k != "default_language")
        error(menu_file_, line_of(v), "", "", fmt::format("menu.{}: unknown key", k.str()));
    const auto* langs = (*menu)["languages"].as_array();
    if (langs == nullptr || langs->empty() || langs->size() > max_languages) {
      error(menu_file_, line_of(*menu), "", "", "menu.languages: 1 to 8 language codes");
      return;
    }
    for (auto&& l : *langs) {
      auto code = l.value<std::string>();
      if (!code || code->size() < 2 || code->size() > 3 || !valid_id(*code) ||
          cat_->language(*code)) {
        error(menu_file_, line_of(l), "", "", "menu.languages: codes like \"en\", each once");
        return;
      }
      cat_->languages.push_back(*code);
    }
    const auto def = (*menu)["default_language"].value_or(std::string(cat_->languages.front()));
    if (auto d = cat_->language(def))
      cat_->default_language = *d;
    else
      error(menu_file_, line_of(*menu), "", "", "menu.default_language: not in menu.languages");
    start_name_ = (*menu)["start"].value_or(std::string());
    if (start_name_.empty()) error(menu_file_, line_of(*menu), "", "", "menu.start: missing");
  }

  void read_screens(const toml::table& root) {
    const auto* screens = root["screens"].as_table();
    if (screens == nullptr || screens->empty()) {
      error(menu_file_, 0, "", "", "no [screens.ID] tables");
      return;
    }
    if (screens->size() > max_screens) {
      error(menu_file_, 0, "", "", fmt::format("more than {} screens", max_screens));
      return;
    }
    for (auto&& [k, v] : *screens) {
      screen_def s;
      s.id = std::string(k.str());
      if (!valid_id(s.id))
        error(menu_file_, line_of(v), s.id, "", "screen ids are [a-z0-9_]{1,32}");
      cat_->screens.push_back(std::move(s));
    }
    if (auto st = cat_->screen(start_name_))
      cat_->start = *st;
    else
      error(menu_file_, 0, start_name_, "", "menu.start: no such screen");
    std::size_t i = 0;
    for (auto&& [k, v] : *screens) {
      auto& s = cat_->screens[i++];
      const auto* t = v.as_table();
      if (t == nullptr) {
        error(menu_file_, line_of(v), s.id, "", "must be a table");
        continue;
      }
      read_screen(s, *t);
    }
  }

  void read_screen(screen_def& s, const toml::table& t) {
    const std::uint32_t line = line_of(t);
    auto err = [&](std::uint32_t l, std::string m) {
      error(menu_file_, l, s.id, "", std::move(m));
    };
    static const std::set<std::string_view> allowed{"kind",  "options", "list", "input",
                                                    "enter", "back",    "home"};
    for (auto&& [k, v] : t)
      if (!allowed.contains(k.str())) err(line_of(v), fmt::format("unknown key '{}'", k.str()));
    const auto kind = t["kind"].value_or(std::string("menu"));
    if (kind == "menu")
      s.kind = screen_def::kind_t::menu;
    else if (kind == "input")
      s.kind = screen_def::kind_t::input;
    else if (kind == "end")
      s.kind = screen_def::kind_t::end;
    else
      err(line, "kind must be menu, input or end");
    s.text = message(s.id + ".text");
    const bool is_start = cat_->screens[cat_->start].id == s.id;
    s.back = t["back"].value_or(!is_start && s.kind != screen_def::kind_t::end);
    s.home = t["home"].value_or(!is_start && s.kind != screen_def::kind_t::end);

    if (const auto* opts = t["options"].as_array()) {
      if (s.kind == screen_def::kind_t::end) err(line, "an end screen has no options");
      if (opts->size() > max_options) err(line, fmt::format("more than {} options", max_options));
      for (auto&& o : *opts) {
        const auto* ot = o.as_table();
        if (ot == nullptr) {
          err(line_of(o), "options are tables { key = ..., goto = ... }");
          continue;
        }
        option_def od;
        od.key = (*ot)["key"].value_or(std::string());
        if (!valid_id(od.key) || od.key == "text" || od.key == "item") {
          err(line_of(o), "option key must be [a-z0-9_]{1,32} and not 'text' or 'item'");
          continue;
        }
        for (const auto& prev : s.options)
          if (prev.key == od.key) err(line_of(o), fmt::format("option '{}' twice", od.key));
        od.label = message(s.id + "." + od.key);
        if (auto w = (*ot)["when"].value<std::string>())
          od.when = parse_condition(*w, s, line_of(o));
        od.then = read_transition(*ot, s, line_of(o), {"key", "when"}, false);
        s.options.push_back(std::move(od));
      }
    }
    if (const auto* l = t["list"].as_table()) {
      if (s.kind == screen_def::kind_t::end) err(line, "an end screen has no list");
      s.has_list = true;
      const auto name = (*l)["action"].value_or(std::string());
      auto a = find_action(name);
      if (!a || !actions()[*a].list)
        err(line_of(*l), fmt::format("list.action '{}' is not a list action", name));
      else
        s.list_action = *a;
      s.item_text = message(s.id + ".item");
      const auto* sel = (*l)["select"].as_table();
      if (sel == nullptr)
        err(line_of(*l), "list.select: what choosing an item does");
      else
        s.select = read_transition(*sel, s, line_of(*sel), {}, true);
      if (auto e = (*l)["empty"].value<std::string>()) s.on_empty = target(*e, s, line_of(*l));
      for (auto&& [k, v] : *l)
        if (k != "action" && k != "select" && k != "empty")
          err(line_of(v), fmt::format("list: unknown key '{}'", k.str()));
    }
    if (const auto* in = t["input"].as_table()) {
      if (s.kind != screen_def::kind_t::input) err(line, "input belongs on kind = \"input\"");
      s.has_input = true;
      const auto var_name = (*in)["var"].value_or(std::string());
      if (auto v = find_var(var_name))
        s.input_var = *v;
      else
        err(line_of(*in), fmt::format("input.var '{}' is not a known variable", var_name));
      const auto rule = (*in)["rule"].value_or(std::string("digits"));
      static const std::map<std::string, input_rule, std::less<>> rules{
          {"digits", input_rule::digits}, {"account", input_rule::account},
          {"amount", input_rule::amount}, {"pin", input_rule::pin},
          {"code", input_rule::code},     {"text", input_rule::text},
          {"money", input_rule::money}};
      if (auto it = rules.find(rule); it != rules.end())
        s.rule = it->second;
      else
        err(line_of(*in), "input.rule must be digits, account, amount, money, pin, code or text");
      const bool secret = var(s.input_var).type == var_type::secret;
      if (secret != secret_rule(s.rule))
        err(line_of(*in),
            "the pin and code rules go with a secret variable (pin, pin.new, pin.confirm, code)");
      const auto mn = (*in)["min"].value_or(std::int64_t{1});
      const auto mx = (*in)["max"].value_or(std::int64_t{24});
      if (mn < 1 || mx > 64 || mn > mx) err(line_of(*in), "input.min/max: 1 <= min <= max <= 64");
      s.min_len = static_cast<std::uint8_t>(std::clamp<std::int64_t>(mn, 1, 64));
      s.max_len = static_cast<std::uint8_t>(std::clamp<std::int64_t>(mx, 1, 64));
      const auto* then = (*in)["then"].as_table();
      if (then == nullptr)
        err(line_of(*in), "input.then: what a valid input does");
      else
        s.then = read_transition(*then, s, line_of(*then), {}, false);
      for (auto&& [k, v] : *in)
        if (k != "var" && k != "rule" && k != "min" && k != "max" && k != "then")
          err(line_of(v), fmt::format("input: unknown key '{}'", k.str()));
    } else if (s.kind == screen_def::kind_t::input) {
      err(line, "kind = \"input\" needs an input table");
    }
    if (const auto* en = t["enter"].as_table()) {
      if (s.has_list) err(line, "a screen has a list or an enter action, not both");
      s.has_enter = true;
      s.enter = read_transition(*en, s, line_of(*en), {}, false);
      if (s.enter.action == no_action) err(line_of(*en), "enter needs an action");
    }
    // A gate (enter whose ok forwards elsewhere) is never shown with options of its own.
    const auto self = static_cast<std::uint16_t>(&s - cat_->screens.data());
    const bool gate = s.has_enter && s.enter.on[static_cast<std::size_t>(outcome::ok)] != self;
    if (s.kind == screen_def::kind_t::menu && s.options.empty() && !s.has_list && !gate)
      err(line, "a menu screen needs options or a list");
  }

  condition parse_condition(const std::string& w, const screen_def& s, std::uint32_t line) {
    condition c;
    std::string name = w, value;
    if (auto p = w.find("!="); p != std::string::npos) {
      c.test = condition::op::ne;
      name = w.substr(0, p);
      value = w.substr(p + 2);
    } else if (auto q = w.find('='); q != std::string::npos) {
      c.test = condition::op::eq;
      name = w.substr(0, q);
      value = w.substr(q + 1);
    } else if (!w.empty() && w[0] == '!') {
      c.test = condition::op::unset;
      name = w.substr(1);
    }
    if (auto v = find_var(name)) {
      c.var = *v;
      c.value = value;
    } else {
      error(menu_file_, line, s.id, "", fmt::format("when: unknown variable '{}'", name));
    }
    return c;
  }

  std::uint16_t target(const std::string& id, const screen_def& s, std::uint32_t line) {
    if (auto t = cat_->screen(id)) return *t;
    error(menu_file_, line, s.id, "", fmt::format("no screen '{}'", id));
    return no_screen;
  }

  transition read_transition(const toml::table& t, const screen_def& s, std::uint32_t line,
                             std::set<std::string_view> other_keys, bool item_context) {
    transition tr;
    for (auto&& [k, v] : t)
      if (k != "goto" && k != "action" && k != "on" && k != "set" && !other_keys.contains(k.str()))
        error(menu_file_, line_of(v), s.id, "", fmt::format("unknown key '{}'", k.str()));
    const auto go = t["goto"].value<std::string>();
    const auto act = t["action"].value<std::string>();
    if (go.has_value() == act.has_value()) {
      error(menu_file_, line, s.id, "", "give either goto or action (with on)");
      return tr;
    }
    if (go) tr.target = target(*go, s, line);
    if (act) {
      auto a = find_action(*act);
      if (!a) {
        error(menu_file_, line, s.id, "", fmt::format("unknown action '{}'", *act));
        return tr;
      }
      tr.action = *a;
      const auto* on = t["on"].as_table();
      if (on == nullptr || !(*on)["ok"]) {
        error(menu_file_, line, s.id, "", fmt::format("action '{}' needs on.ok", *act));
        return tr;
      }
      for (auto&& [k, v] : *on) {
        auto o = parse_outcome(k.str());
        if (!o || !action_may(*a, *o)) {
          error(menu_file_, line_of(v), s.id, "",
                fmt::format("action '{}' has no outcome '{}'", *act, k.str()));
          continue;
        }
        if (auto id = v.value<std::string>())
          tr.on[static_cast<std::size_t>(*o)] = target(*id, s, line_of(v));
        else
          error(menu_file_, line_of(v), s.id, "", "on.<outcome> must name a screen");
      }
    }
    if (const auto* set = t["set"].as_table()) {
      for (auto&& [k, v] : *set) {
        assignment as;
        auto dst = find_var(k.str());
        auto val = v.value<std::string>();
        if (!dst || !val) {
          error(menu_file_, line_of(v), s.id, "",
                fmt::format("set: '{}' is not a known variable or its value is not a string",
                            k.str()));
          continue;
        }
        as.var = *dst;
        if (!val->empty() && (*val)[0] == '$') {
          const std::string src = val->substr(1);
          if (auto f = find_item_field(src); f && item_context) {
            as.from = *f;
            as.from_item = true;
          } else if (auto sv = find_var(src)) {
            as.from = *sv;
          } else {
            error(menu_file_, line_of(v), s.id, "", fmt::format("set: no variable '{}'", src));
          }
        } else {
          as.literal = *val;
        }
        tr.set.push_back(std::move(as));
      }
    }
    return tr;
  }

  void read_texts(const std::map<std::string, std::string>& texts) {
    cat_->texts.assign(cat_->languages.size(), {});
    // [names] keys: the union over languages; each language must have all of them.
    std::vector<std::optional<toml::table>> roots(cat_->languages.size());
    std::vector<std::string> files(cat_->languages.size());
    for (std::size_t li = 0; li < cat_->languages.size(); ++li) {
      const auto& lang = cat_->languages[li];
      files[li] = dir_.empty() ? "text." + lang + ".toml" : dir_ + "/text." + lang + ".toml";
      auto it = texts.find(lang);
      if (it == texts.end()) {
        error(files[li], 0, "", lang, "missing text file");
        continue;
      }
      toml::table root;
      if (!parse(it->second, files[li], root)) continue;
      roots[li] = std::move(root);
      if (const auto* names = (*roots[li])["names"].as_table())
        for (auto&& [k, v] : *names)
          cat_->names.emplace(std::string(k.str()), message("names." + std::string(k.str())));
    }
    for (std::size_t li = 0; li < cat_->languages.size(); ++li) {
      const auto& lang = cat_->languages[li];
      if (!roots[li]) continue;  // missing or unparsable: already reported
      auto& out = cat_->texts[li];
      out.assign(cat_->message_keys.size(), {});
      std::vector<bool> seen(cat_->message_keys.size(), false);
      for (auto&& [sec, node] : *roots[li]) {
        const auto* tbl = node.as_table();
        if (tbl == nullptr) {
          error(files[li], line_of(node), std::string(sec.str()), lang, "expected a [table]");
          continue;
        }
        for (auto&& [k, v] : *tbl) {
          const std::string key = std::string(sec.str()) + "." + std::string(k.str());
          auto id = message_ids_.find(key);
          if (id == message_ids_.end()) {
            error(files[li], line_of(v), std::string(sec.str()), lang,
                  fmt::format("'{}' is not used by any screen (typo?)", key));
            continue;
          }
          auto text = v.value<std::string>();
          if (!text || text->empty() || text->size() > max_text_bytes || !valid_utf8(*text)) {
            error(files[li], line_of(v), std::string(sec.str()), lang,
                  fmt::format("'{}' must be UTF-8 text of 1..{} bytes", key, max_text_bytes));
            continue;
          }
          seen[id->second] = true;
          out[id->second] = parse_template(*text, files[li], line_of(v), std::string(sec.str()),
                                           lang, key.ends_with(".item"));
        }
      }
      for (std::size_t m = 0; m < seen.size(); ++m)
        if (!seen[m]) {
          const auto& key = cat_->message_keys[m];
          error(files[li], 0, key.substr(0, key.find('.')), lang,
                fmt::format("missing text '{}'", key));
        }
    }
  }

  text_template parse_template(const std::string& text, const std::string& file, std::uint32_t line,
                               const std::string& screen, const std::string& lang, bool item_ok) {
    text_template out;
    std::string lit;
    for (std::size_t i = 0; i < text.size(); ++i) {
      const char c = text[i];
      if (c == '{' && i + 1 < text.size() && text[i + 1] == '{') {
        lit += '{';
        ++i;
        continue;
      }
      if (c == '}' && i + 1 < text.size() && text[i + 1] == '}') {
        lit += '}';
        ++i;
        continue;
      }
      if (c != '{') {
        lit += c;
        continue;
      }
      const auto close = text.find('}', i);
      if (close == std::string::npos) {
        error(file, line, screen, lang, "unclosed '{' in text (write {{ for a brace)");
        return out;
      }
      std::string spec = text.substr(i + 1, close - i - 1);
      i = close;
      template_part p;
      if (auto bar = spec.find('|'); bar != std::string::npos) {
        const std::string f = spec.substr(bar + 1);
        spec.resize(bar);
        if (f == "name")
          p.f = filter::name;
        else if (f == "last4")
          p.f = filter::last4;
        else
          error(file, line, screen, lang, fmt::format("unknown filter '|{}'", f));
      }
      if (auto it = find_item_field(spec); it && item_ok) {
        p.var = *it;
        p.item = true;
      } else if (auto v = find_var(spec)) {
        if (var(*v).type == var_type::secret) {
          error(file, line, screen, lang, fmt::format("'{}' is secret and is never shown", spec));
          continue;
        }
        p.var = *v;
      } else {
        error(file, line, screen, lang, fmt::format("unknown variable '{{{}}}'", spec));
        continue;
      }
      if (!lit.empty()) out.push_back({std::move(lit)});
      lit.clear();
      out.push_back(std::move(p));
    }
    if (!lit.empty()) out.push_back({std::move(lit)});
    return out;
  }

  void edges(const transition& t, std::vector<std::uint16_t>& out) {
    if (t.target != no_screen) out.push_back(t.target);
    for (auto s : t.on)
      if (s != no_screen) out.push_back(s);
  }

  void check_reachable() {
    std::vector<bool> seen(cat_->screens.size(), false);
    std::deque<std::uint16_t> queue{cat_->start};
    seen[cat_->start] = true;
    while (!queue.empty()) {
      const auto& s = cat_->screens[queue.front()];
      queue.pop_front();
      std::vector<std::uint16_t> next;
      for (const auto& o : s.options) edges(o.then, next);
      if (s.has_list) edges(s.select, next);
      if (s.on_empty != no_screen) next.push_back(s.on_empty);
      if (s.has_input) edges(s.then, next);
      if (s.has_enter) edges(s.enter, next);
      for (auto n : next)
        if (n < seen.size() && !seen[n]) {
          seen[n] = true;
          queue.push_back(n);
        }
    }
    for (std::size_t i = 0; i < seen.size(); ++i)
      if (!seen[i])
        error(menu_file_, 0, cat_->screens[i].id, "", "unreachable from the start screen");
  }

  // Conditions that are never true together: var=v and var!=v, var and !var.
  static bool opposite(const condition& a, const condition& b) {
    using op = condition::op;
    if (a.var == 0xFFFF || a.var != b.var) return false;
    const auto pair = [&](op x, op y) {
      return (a.test == x && b.test == y) || (a.test == y && b.test == x);
    };
    return (pair(op::eq, op::ne) && a.value == b.value) || pair(op::set, op::unset);
  }

  // Worst-case length of a template in the given encoding, with every variable at its longest.
  std::size_t worst(const text_template& t, std::uint8_t lang, bool& gsm) {
    std::size_t n = 0;
    for (const auto& p : t) {
      if (p.var == 0xFFFF) {
        auto m = measure(p.literal);
        if (m.enc == encoding::ucs2) gsm = false;
        n += m.enc == encoding::gsm7 ? m.length : *ucs2_length(p.literal);
        continue;
      }
      std::size_t len = p.item ? item_fields()[p.var].max_length : var(p.var).max_length;
      if (p.f == filter::last4) len = 6;
      if (p.f == filter::name) {
        len = 0;
        for (auto& [k, id] : cat_->names) {
          bool g = true;
          len = std::max(len, worst(cat_->texts[lang][id], lang, g));
          if (!g) gsm = false;
        }
      }
      n += len;
    }
    return n;
  }

  void check_lengths() {
    for (std::uint8_t li = 0; li < cat_->languages.size(); ++li) {
      const auto& tx = cat_->texts[li];
      auto sys = [&](sys_msg m) { return cat_->sys[static_cast<std::size_t>(m)]; };
      for (const auto& s : cat_->screens) {
        bool gsm = true;
        std::size_t n = worst(tx[s.text], li, gsm);
        auto line = [&](std::uint16_t msg, std::size_t number_width) {
          n += 1 + number_width + 2 + worst(tx[msg], li, gsm);  // "\nN. label"
        };
        std::size_t number = 0;
        if (s.has_list) line(s.item_text, 2), ++number;  // at least one item per page
        // Of two options shown on opposite conditions ("x=on" and "x!=on") only one shows:
        // the pair takes one number and the longer label's line.
        std::vector<bool> taken(s.options.size());
        for (std::size_t i = 0; i < s.options.size(); ++i) {
          if (taken[i]) continue;
          const auto width = ++number >= 10 ? 2u : 1u;
          std::size_t longest = worst(tx[s.options[i].label], li, gsm);
          for (std::size_t j = i + 1; j < s.options.size(); ++j)
            if (!taken[j] && opposite(s.options[i].when, s.options[j].when)) {
              taken[j] = true;
              longest = std::max(longest, worst(tx[s.options[j].label], li, gsm));
              break;
            }
          n += 1 + width + 2 + longest;
        }
        if (s.has_list) line(sys(sys_msg::more), 2);
        if (s.back) line(sys(sys_msg::back), 1);
        if (s.home) line(sys(sys_msg::home), 2);
        // An error line on top ("Invalid choice.") is shown only when it fits; the screen
        // itself must always fit.
        const std::size_t limit = gsm ? cat_->limits.gsm : cat_->limits.ucs2;
        if (n > limit)
          error(menu_file_, 0, s.id, cat_->languages[li],
                fmt::format("up to {} {} characters with the longest values, limit {}", n,
                            gsm ? "GSM" : "UCS-2", limit));
      }
      for (auto k : system_keys) {
        bool gsm = true;
        const std::size_t n = worst(tx[message(std::string(k))], li, gsm);
        if (n > (gsm ? cat_->limits.gsm : cat_->limits.ucs2))
          error(menu_file_, 0, std::string(k), cat_->languages[li],
                fmt::format("{} characters, over the screen limit", n));
      }
      for (auto k : sms_keys) {
        bool gsm = true;
        const std::size_t n = worst(tx[message(std::string(k))], li, gsm);
        if (n > (gsm ? sms_limit_gsm : sms_limit_ucs2))
          error(menu_file_, 0, std::string(k), cat_->languages[li],
                fmt::format("{} {} characters with the longest values, over three SMS segments", n,
                            gsm ? "GSM" : "UCS-2"));
      }
    }
  }

  std::string dir_;
  std::string menu_file_;
  std::string start_name_;
  std::shared_ptr<catalog> cat_ = std::make_shared<catalog>();
  std::map<std::string, std::uint16_t> message_ids_;
  std::vector<load_error> errors_;
};

bool read_file(const std::string& path, std::string& out) {
  std::ifstream f(path, std::ios::binary);
  if (!f) return false;
  f.seekg(0, std::ios::end);
  const auto size = f.tellg();
  if (size < 0 || static_cast<std::size_t>(size) > max_file_bytes + 1) {
    out.assign(max_file_bytes + 1, ' ');  // reported as too large by the loader
    return true;
  }
  f.seekg(0);
  out.resize(static_cast<std::size_t>(size));
  f.read(out.data(), size);
  return static_cast<bool>(f);
}

}  // namespace

load_result load_catalog_from(std::string_view menu_toml,
                              const std::map<std::string, std::string>& texts,
                              const length_limits& limits, const std::string& dir) {
  return loader(limits, dir).run(menu_toml, texts);
}

load_result load_catalog(const std::string& dir, const length_limits& limits) {
  std::string menu;
  if (!read_file(dir + "/menu.toml", menu))
    return {nullptr, {{dir + "/menu.toml", 0, "", "", "cannot read"}}};
  // Language codes come from menu.toml; read each text file named by them.
  std::map<std::string, std::string> texts;
  try {
    auto root = toml::parse(menu.size() > max_file_bytes ? std::string_view() : menu);
    if (const auto* langs = root["menu"]["languages"].as_array())
      for (auto&& l : *langs)
        if (auto code = l.value<std::string>();
            code && valid_id(*code) && texts.size() < max_languages) {
          std::string body;
          if (read_file(dir + "/text." + *code + ".toml", body))
            texts.emplace(*code, std::move(body));
        }
  } catch (const toml::parse_error&) {
    // reported with its line by load_catalog_from
  }
  return load_catalog_from(menu, texts, limits, dir);
}

std::string format_errors(const std::vector<load_error>& errors) {
  std::string out;
  for (const auto& e : errors) {
    out += e.file;
    if (e.line > 0) out += fmt::format(":{}", e.line);
    out += ": ";
    if (!e.screen.empty()) out += fmt::format("screen '{}' ", e.screen);
    if (!e.language.empty()) out += fmt::format("[{}] ", e.language);
    out += e.message + "\n";
  }
  return out;
}

}  // namespace ussdpay::menus
