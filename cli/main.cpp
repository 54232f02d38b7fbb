#include <iostream>
#include <sstream>
#include <streambuf>

#include "command_support.hpp"
#include "commands.hpp"
#include "sib/distributed.hpp"

namespace {

/// Standard output of the processes other than process 0 under mpirun: process 0 prints for all.
struct Discard : std::streambuf {
    int overflow(int c) override { return traits_type::not_eof(c); }
    std::streamsize xsputn(const char*, std::streamsize n) override { return n; }
};

}  // namespace

int main(int argc, char** argv) {
    // Under mpirun every process runs the same command (docs/distributed.md); without it there
    // is one process and MPI is never started.
    sib::start_processes(argc, argv);
    sib::set_stop_signal(&sib::cli::interrupt_signal);
    if (sib::processes().count == 1)
        return sib::finish_processes(sib::cli::main(argc, argv, std::cout, std::cerr));
    const bool first = sib::processes().rank == 0;
    Discard discard;
    std::ostream discarded(&discard);
    std::ostringstream held;  // another process's messages: shown only when its failure is its own
    int status = first ? sib::cli::main(argc, argv, std::cout, std::cerr)
                       : sib::cli::main(argc, argv, discarded, held);
    if (!sib::agreed()) {
        // Failed before the processes started working together, or a command with nothing to
        // share: every process learns every status. When process 0 failed it has printed the
        // error (the others, on the same inputs, failed alike); otherwise a failing process
        // prints its own.
        bool first_failed = false;
        const int mine = status;
        status = sib::agree_status(status, &first_failed);
        if (!first && mine != 0 && !first_failed) std::cerr << held.str() << std::flush;
    } else if (!first && status != 0 && status < 128) {  // not an interrupt: process 0 says it
        std::cerr << held.str() << std::flush;
    }
    return sib::finish_processes(status);
}
