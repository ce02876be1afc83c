#include "gateway/ussd/dialogs.hpp"
#include "gateway/common/assert.hpp"

#include <fmt/format.h>

namespace ussdpay::ussd {

std::optional<std::uint64_t> msisdn_key(std::string_view digits) {
  if (digits.starts_with('+')) digits.remove_prefix(1);
  if (digits.empty() || digits.size() > 15) return std::nullopt;
  std::uint64_t v = 0;
  for (char c : digits) {
    if (c < '0' || c > '9') return std::nullopt;
    v = v * 10 + static_cast<std::uint64_t>(c - '0');
  }
  return v << 5 | digits.size();
}

std::string msisdn_text(std::uint64_t key) {
  const auto n = static_cast<std::size_t>(key & 31);
  std::string s = std::to_string(key >> 5);
  if (s.size() < n) s.insert(0, n - s.size(), '0');
  return s;
}

// --- dial_limiter ------------------------------------------------------------------------------

dial_limiter::dial_limiter(std::uint32_t per_window, std::chrono::milliseconds window,
                           std::size_t max_numbers) {
  configure(per_window, window, max_numbers);
  numbers_.reserve(std::min<std::size_t>(max_numbers_, 1 << 12));
}

dial_limiter::~dial_limiter() = default;

void dial_limiter::configure(std::uint32_t per_window, std::chrono::milliseconds window,
                             std::size_t max_numbers) {
  per_window_ = window.count() > 0 ? per_window : 0;
  window_ = window;
  max_numbers_ = max_numbers;
  if (per_window_ == 0 || max_numbers_ == 0) {
    per_window_ = 0;
    numbers_.clear();
    oldest_ = newest_ = nullptr;
    return;
  }
  interval_ = std::chrono::duration_cast<clock_type::duration>(window) / per_window_;
  tolerance_ = std::chrono::duration_cast<clock_type::duration>(window) - interval_;
  while (numbers_.size() > max_numbers_) forget_oldest();
}

void dial_limiter::unlink(entry& e) {
  (e.prev ? e.prev->next : oldest_) = e.next;
  (e.next ? e.next->prev : newest_) = e.prev;
  e.prev = e.next = nullptr;
}

void dial_limiter::link_newest(entry& e) {
  e.prev = newest_;
  e.next = nullptr;
  (newest_ ? newest_->next : oldest_) = &e;
  newest_ = &e;
}

void dial_limiter::forget_oldest() {
  entry& e = *oldest_;
  unlink(e);
  numbers_.erase(e.key);
}

dial_limiter::verdict dial_limiter::dial(std::uint64_t key, clock_type::time_point now) {
  if (per_window_ == 0) return {};
  auto it = numbers_.find(key);
  if (it == numbers_.end()) {
    // Numbers whose allowance is full again are the same as numbers never seen: forget them
    // from the least recent end (each is forgotten once, so this is O(1) amortised).
    while (oldest_ != nullptr && oldest_->tat <= now && oldest_->quiet_until <= now)
      forget_oldest();
    if (numbers_.size() >= max_numbers_) {
      // Full of numbers still within their window: the least recent goes, and its node is
      // reused for this one (no allocation under a flood of new numbers).
      entry& old = *oldest_;
      unlink(old);
      auto node = numbers_.extract(old.key);
      node.key() = key;
      node.mapped() = entry{};
      it = numbers_.insert(std::move(node)).position;
      ++evicted_;
    } else {
      it = numbers_.try_emplace(key).first;
    }
    it->second.key = key;
    it->second.tat = now;
    link_newest(it->second);
  } else if (newest_ != &it->second) {
    unlink(it->second);
    link_newest(it->second);
  }
  entry& e = it->second;
  const auto tat = std::max(e.tat, now);
  if (tat - now > tolerance_) {
    verdict v{false, now >= e.quiet_until};
    if (v.first_refusal) e.quiet_until = now + window_;
    return v;
  }
  e.tat = tat + interval_;
  return {};
}

// --- dialogs ---------------------------------------------------------------------------------

struct dialogs::session {
  menus::dialog_state menu;
  std::uint64_t key = 0;
  session* prev = nullptr;  // towards oldest_
  session* next = nullptr;  // towards newest_
  clock_type::time_point started{}, active{};
  clock_type::time_point input_at{};  // of the dial or reply the next screen answers
  std::uint32_t generation = 0;       // of the action running, 0 when none
  std::optional<std::uint16_t> session_id;
  reply_to to;
  bool resume_prompt = false;  // showing "Continue where you left off?"
};

dialogs::dialogs(dialog_config cfg, profile prof, std::shared_ptr<const menus::catalog> cat,
                 callbacks cb)
    : cfg_(std::move(cfg)),
      prof_(std::move(prof)),
      cat_(std::move(cat)),
      cb_(std::move(cb)),
      limiter_(cfg_.dials_per_msisdn, cfg_.dial_window, cfg_.dial_numbers) {
  sessions_.reserve(std::min<std::size_t>(cfg_.max_sessions, 1 << 16));
}

dialogs::~dialogs() = default;

void dialogs::reload(dialog_config cfg, std::shared_ptr<const menus::catalog> cat) {
  cfg_ = std::move(cfg);
  cat_ = std::move(cat);
  limiter_.configure(cfg_.dials_per_msisdn, cfg_.dial_window, cfg_.dial_numbers);
}

void dialogs::unlink(session& s) {
  (s.prev ? s.prev->next : oldest_) = s.next;
  (s.next ? s.next->prev : newest_) = s.prev;
  s.prev = s.next = nullptr;
}

void dialogs::touch(session& s, clock_type::time_point now) {
  s.active = now;
  if (newest_ == &s) return;
  if (s.prev != nullptr || s.next != nullptr || oldest_ == &s) unlink(s);
  s.prev = newest_;
  (newest_ ? newest_->next : oldest_) = &s;
  newest_ = &s;
}

void dialogs::drop(std::uint64_t key) {
  auto it = sessions_.find(key);
  if (it == sessions_.end()) return;
  unlink(it->second);
  sessions_.erase(it);
}

std::uint8_t dialogs::language_of(std::string_view msisdn) const {
  std::string code = cb_.language ? cb_.language(msisdn) : std::string();
  if (code.empty()) code = cfg_.default_language;
  if (auto l = cat_->language(code)) return *l;
  return cat_->default_language;
}

void dialogs::init_vars(menus::dialog_state& st, std::string_view msisdn) const {
  (void)msisdn;
  st.set(menus::var_id::currency, cfg_.currency);
  st.set(menus::var_id::service_code, cfg_.service_code);
  st.set(menus::var_id::support_phone, cfg_.support_phone);
  st.set(menus::var_id::language, st.cat->languages[st.lang]);
}

void dialogs::answer_outside(const event& e, std::string_view system_key, std::uint8_t lang) {
  menus::dialog_state st;
  st.cat = cat_;
  st.lang = lang;
  init_vars(st, e.subscriber.addr);
  const std::string text = menus::system_text(st, system_key);
  reply_to to{e.subscriber, e.service, e.its_session_info, e.user_message_reference};
  if (auto body = screen(to, text, true, prof_)) {
    ++stats_.screens;
    cb_.send(std::move(*body));
  }
}

void dialogs::refuse_dial(const event& e, dial_refusal why, bool first) {
  ++(why == dial_refusal::busy ? stats_.busy : stats_.rate_limited);
  answer_outside(e, "busy", language_of(e.subscriber.addr));
  if (cb_.refused) cb_.refused(e.subscriber.addr, why, first);
}

std::uint32_t dialogs::on_deliver(const smpp::sm_body& in, clock_type::time_point now) {
  auto parsed = parse(in, prof_);
  if (auto* nu = std::get_if<not_ussd>(&parsed)) {
    if (nu->status != smpp::status::ok) ++stats_.rejected_pdus;
    return nu->status;
  }
  const event& e = std::get<event>(parsed);
  const auto key = msisdn_key(e.subscriber.addr);
  if (!key) {
    ++stats_.rejected_pdus;
    return smpp::status::invalid_source_addr;
  }
  auto it = sessions_.find(*key);
  using kind = event::kind_t;
  switch (e.kind) {
    case kind::begin: {
      ++stats_.dials;
      // Over its allowance: refused before anything else, leaving a live dialog as it is, so a
      // flood from one number costs one lookup and one screen per dial.
      if (const auto v = limiter_.dial(*key, now); !v.allowed) {
        refuse_dial(e, dial_refusal::rate_limited, v.first_refusal);
        return smpp::status::ok;
      }
      // "*123#" starts at the top; "*123*1*2#" enters at that path; an empty text means the
      // centre routed the short code to us without repeating it.
      std::string_view shortcut;
      const std::string_view code = cfg_.service_code;
      const std::string_view prefix = code.substr(0, code.size() - 1);
      if (!e.text.empty() && e.text != code) {
        const std::string_view t = e.text;
        if (t.size() > prefix.size() + 2 && t.starts_with(prefix) && t[prefix.size()] == '*' &&
            t.ends_with('#')) {
          shortcut = t.substr(prefix.size() + 1, t.size() - prefix.size() - 2);
        } else {
          ++stats_.unknown_code;
          answer_outside(e, "unknown_code", language_of(e.subscriber.addr));
          return smpp::status::ok;
        }
      }
      // A plain dial after a dialog was cut off mid-menu offers to continue it.
      std::optional<menus::dialog_state> resume;
      if (it != sessions_.end()) {
        ++stats_.replaced;
        if (shortcut.empty()) park(*key, it->second, now);
        drop(*key);
      }
      if (auto p = parked_.find(*key); p != parked_.end()) {
        if (shortcut.empty() && p->second.until > now) resume = std::move(p->second.menu);
        parked_.erase(p);
      }
      if (refusing_) {
        ++stats_.busy;
        answer_outside(e, "unavailable", language_of(e.subscriber.addr));
        return smpp::status::ok;
      }
      if (sessions_.size() >= cfg_.max_sessions) {
        refuse_dial(e, dial_refusal::busy, true);
        return smpp::status::ok;
      }
      auto [pos, added] = sessions_.try_emplace(*key);
      USSDPAY_ASSERT(sessions_.size() <= cfg_.max_sessions, "at most max_sessions live dialogs");
      session& s = pos->second;
      s.key = *key;
      s.started = now;
      s.input_at = now;
      s.session_id = e.session_id;
      s.to = {e.subscriber, e.service, e.its_session_info, e.user_message_reference};
      touch(s, now);
      if (cb_.hop) cb_.hop(e.subscriber.addr, "dial", e.text);
      start(*key, s, shortcut, std::move(resume), now);
      return smpp::status::ok;
    }
    case kind::next: {
      ++stats_.replies;
      const bool same = it != sessions_.end() && (!e.session_id || !it->second.session_id ||
                                                  *e.session_id == *it->second.session_id);
      if (!same) {
        ++stats_.unknown_session;
        answer_outside(e, "ended", language_of(e.subscriber.addr));
        return smpp::status::ok;
      }
      session& s = it->second;
      if (now - s.started > cfg_.max_session_length) {
        ++stats_.expired;
        answer_outside(e, "expired", s.menu.lang);
        drop(*key);
        return smpp::status::ok;
      }
      if (s.menu.waiting_for_action()) {  // the screen is on its way; the reply is early
        ++stats_.ignored_while_busy;
        return smpp::status::ok;
      }
      s.to.its_session_info = e.its_session_info;
      s.to.user_message_reference = e.user_message_reference;
      s.input_at = now;
      if (s.resume_prompt) {
        if (cb_.hop) cb_.hop(e.subscriber.addr, "resume", e.text);
        touch(s, now);
        if (e.text == "1") {  // continue: the screen they were on, as it was
          s.resume_prompt = false;
          ++stats_.resumed;
          deliver_step(*key, s, menus::redisplay(s.menu), now);
        } else if (e.text == "2") {  // start over
          s.resume_prompt = false;
          s.menu = menus::dialog_state();
          start(*key, s, {}, std::nullopt, now);
        } else if (auto body = screen(s.to, menus::system_text(s.menu, "resume"), false, prof_)) {
          ++stats_.screens;
          cb_.send(std::move(*body));
        }
        return smpp::status::ok;
      }
      if (cb_.hop) {
        const auto& screen_id =
            s.menu.screen != menus::no_screen ? s.menu.cat->screens[s.menu.screen].id : "";
        cb_.hop(e.subscriber.addr, screen_id, s.menu.expects_secret() ? "****" : e.text);
      }
      touch(s, now);
      deliver_step(*key, s, menus::input(s.menu, e.text), now);
      return smpp::status::ok;
    }
    case kind::end:
    case kind::abort:
      ++(e.kind == kind::end ? stats_.ended : stats_.aborted);
      if (it != sessions_.end() &&
          (!e.session_id || !it->second.session_id || *e.session_id == *it->second.session_id)) {
        park(*key, it->second, now);
        drop(*key);
      }
      return smpp::status::ok;
  }
  return smpp::status::ok;
}

void dialogs::start(std::uint64_t key, session& s, std::string_view shortcut,
                    std::optional<menus::dialog_state> resume, clock_type::time_point now) {
  if (resume) {
    s.menu = std::move(*resume);
    s.resume_prompt = true;
    if (auto body = screen(s.to, menus::system_text(s.menu, "resume"), false, prof_)) {
      ++stats_.screens;
      cb_.send(std::move(*body));
      return;
    }
    s.resume_prompt = false;
    s.menu = menus::dialog_state();
  }
  const std::uint8_t lang = language_of(s.to.subscriber.addr);
  s.menu.cat = cat_;
  s.menu.lang = lang;
  init_vars(s.menu, s.to.subscriber.addr);
  deliver_step(key, s, menus::begin(s.menu, cat_, lang, shortcut), now);
}

namespace {
// Where a dial lands: the start screen, or where its gate forwards a registered subscriber.
std::uint16_t first_screen(const menus::catalog& c) {
  const auto& start = c.screens[c.start];
  return start.has_enter ? start.enter.on[static_cast<std::size_t>(menus::outcome::ok)] : c.start;
}
}  // namespace

void dialogs::park(std::uint64_t key, session& s, clock_type::time_point now) {
  // Worth offering back: somewhere past the first screen (the start, or where its gate led:
  // nothing to go back to), on a screen that waits for the subscriber (not while an action
  // runs: a payment in flight finishes on its own).
  const auto& m = s.menu;
  if (cfg_.resume_window.count() == 0 || s.resume_prompt || m.waiting_for_action() ||
      m.screen == menus::no_screen || m.screen == m.cat->start || m.depth == 0 ||
      m.screen == first_screen(*m.cat) ||
      m.cat->screens[m.screen].kind == menus::screen_def::kind_t::end ||
      parked_.size() >= cfg_.max_sessions)
    return;
  s.menu.wipe_secrets();
  s.menu.shortcut.clear();
  s.menu.error = 0xFF;
  const auto until = now + cfg_.resume_window;
  const auto was = parked_.find(key);
  // Parked again at the same instant: its queue entry already says when to forget it.
  const bool queued = was != parked_.end() && was->second.until == until;
  parked_.insert_or_assign(key, parked_dialog{std::move(s.menu), until});
  if (!queued) parked_order_.emplace_back(key, until);
  ++stats_.parked;
  // A number parked again, or resumed, leaves a stale entry in the queue until its time comes;
  // a number that dials, replies and dials again all day would grow it by one each time.
  // Forget the stale ones once they are most of it: amortised O(1), the queue stays within
  // about twice the parked dialogs.
  if (parked_order_.size() > 2 * parked_.size() + 64)
    std::erase_if(parked_order_, [this](const std::pair<std::uint64_t, clock_type::time_point>& q) {
      const auto p = parked_.find(q.first);
      return p == parked_.end() || p->second.until != q.second;
    });
}

void dialogs::deliver_step(std::uint64_t key, session& s, menus::step st,
                           clock_type::time_point now) {
  using k = menus::step::kind_t;
  if (st.kind == k::action) {
    ++stats_.actions;
    s.generation = next_generation_++;
    if (next_generation_ == 0) next_generation_ = 1;
    const std::string msisdn = msisdn_text(key);
    cb_.act({{key, s.generation}, st.action, &s.menu, msisdn});
    return;
  }
  const bool end = st.kind == k::end || st.text.empty();
  auto body = screen(s.to, st.text, end, prof_);
  if (!body) body = screen(s.to, menus::system_text(s.menu, "unavailable"), true, prof_);
  if (body) {
    ++stats_.screens;
    cb_.send(std::move(*body));
    if (cb_.answered) cb_.answered(s.input_at);
  }
  if (end || !body)
    drop(key);
  else
    touch(s, now);
}

void dialogs::complete(action_token token, action_result r, clock_type::time_point now) {
  auto it = sessions_.find(token.key);
  if (it == sessions_.end() || it->second.generation != token.generation ||
      !it->second.menu.waiting_for_action()) {
    ++stats_.stale_results;
    return;
  }
  session& s = it->second;
  s.generation = 0;
  for (auto& [id, v] : r.vars) s.menu.set(id, std::move(v));
  s.menu.items = std::move(r.items);
  deliver_step(token.key, s, menus::resume(s.menu, r.result), now);
}

std::size_t dialogs::waiting_for_actions() const {
  std::size_t n = 0;
  for (const auto& [key, s] : sessions_)
    if (s.menu.waiting_for_action()) ++n;
  return n;
}

std::size_t dialogs::close_all() {
  std::size_t n = 0;
  while (oldest_ != nullptr) {
    session& s = *oldest_;
    if (auto body = screen(s.to, menus::system_text(s.menu, "unavailable"), true, prof_)) {
      ++stats_.screens;
      cb_.send(std::move(*body));
    }
    ++n;
    drop(s.key);
  }
  return n;
}

std::size_t dialogs::expire(clock_type::time_point now) {
  std::size_t n = 0;
  while (oldest_ != nullptr && oldest_->active + cfg_.session_timeout <= now) {
    session& s = *oldest_;
    ++stats_.expired;
    ++n;
    // Close the network's side too: it may still hold the dialog open.
    const std::string text = menus::system_text(s.menu, "expired");
    if (auto body = screen(s.to, text, true, prof_)) {
      ++stats_.screens;
      cb_.send(std::move(*body));
    }
    const auto key = s.key;
    park(key, s, now);
    drop(key);
  }
  // Parked dialogs past their window are forgotten (an entry re-parked later has a later time).
  while (!parked_order_.empty() && parked_order_.front().second <= now) {
    const auto [key, until] = parked_order_.front();
    parked_order_.pop_front();
    if (auto p = parked_.find(key); p != parked_.end() && p->second.until == until)
      parked_.erase(p);
  }
  return n;
}

std::optional<clock_type::time_point> dialogs::next_expiry() const {
  if (oldest_ == nullptr) return std::nullopt;
  return oldest_->active + cfg_.session_timeout;
}

}  // namespace ussdpay::ussd
