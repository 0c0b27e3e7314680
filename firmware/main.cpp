#include "firmware/cli.hpp"

int main(int argc, char** argv) { return tracklight::firmware::run_cli(argc, argv); }
