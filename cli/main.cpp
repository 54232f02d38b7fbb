#include <iostream>

#include "commands.hpp"

int main(int argc, char** argv) {
    return sib::cli::main(argc, argv, std::cout, std::cerr);
}
