// `kaiwu exec`: placeholder, being implemented.
#include "commands.h"

namespace kaiwu::cli {
void add_exec_command(CLI::App& app) { (void)app; }
}  // namespace kaiwu::cli
