// The provisioning commands of the command line (SPEC section 7): device-key, export, import.
#pragma once
#include <string>
#include <vector>

namespace tracklight::firmware {

bool is_transfer_command(const std::string& command);
// `args` are the command's own arguments, in order. Returns the exit code: 0 done, 1 refused or
// failed (nothing changed), 2 usage.
int run_transfer_command(const std::string& command, const std::string& state_dir, const std::vector<std::string>& args);

extern const char* const kTransferUsage;

}  // namespace tracklight::firmware
