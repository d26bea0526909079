// C++ with an exception thrown and caught: needs libstdc++, libgcc_s (unwinding) and libm.
#include <iostream>
#include <stdexcept>
#include <string>
int main() {
  try {
    throw std::runtime_error(std::string("hello from c++"));
  } catch (const std::exception &e) {
    std::cout << e.what() << " (caught)" << std::endl;
  }
  return 0;
}
