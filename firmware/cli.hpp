// The command line (SPEC section 7): run the agent, or one of its offline commands.
#pragma once

namespace tracklight::firmware {

int run_cli(int argc, char** argv);

}  // namespace tracklight::firmware
