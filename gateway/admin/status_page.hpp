// The operations status page served at the admin root: one self-contained HTML document (no
// external scripts, styles or fonts) that reads /api/status every 5 s with the bearer token
// given in the URL fragment (#token=..., never sent to the server) or typed into the page.
#pragma once

#include <string_view>

namespace ussdpay::admin {

std::string_view status_page();

}  // namespace ussdpay::admin
