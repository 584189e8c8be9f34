#include "app/privileges.h"

namespace stash53::app {

void drop_privileges(const PrivilegeOptions&) {}

}  // namespace stash53::app
