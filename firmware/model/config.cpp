#include "firmware/model/config.hpp"

namespace tracklight::firmware {

const Connection* Config::find(const std::string& id) const {
  for (const auto& c : connections)
    if (c.id == id) return &c;
  return nullptr;
}

Connection* Config::find(const std::string& id) {
  for (auto& c : connections)
    if (c.id == id) return &c;
  return nullptr;
}

}  // namespace tracklight::firmware
