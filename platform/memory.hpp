// What the agent holds while idle. The budget (SPEC section 8) is on resident memory, and most of
// an idle agent's resident pages are not its own data but code: start-up runs the dynamic linker
// over libstdc++'s symbol tables and a Test runs TLS and X.509 code, and the kernel maps 64 KiB
// around every page touched. An idle agent runs almost none of it.
#pragma once

namespace tracklight::platform {

// One malloc arena for the whole process: per-thread arenas keep memory a Test freed on a worker
// resident (measured: +1.9 MB anonymous after six Tests with them, +0.9 MB without).
void use_single_heap();

// Gives back what the agent holds only for the work that just ended:
// - heap pages freed by it (a Test parses the whole CA bundle, hundreds of kB, and frees it);
// - the program's and its libraries' code and read-only data, which the next use maps again
//   from the page cache (a minor fault, no disk read while the kernel keeps the file cached).
// Pages a process has written (relocations, RELRO, data) are never touched, so nothing is lost.
void return_idle_memory();

}  // namespace tracklight::platform
