# The one place that finds sibsim's dependencies: Debian 12 packages only, nothing downloaded.
#   libeigen3-dev   -> Eigen3::Eigen      (Cholesky factor of the copula)
#   libboost-dev    -> Boost::headers     (Boost.Random samplers, Boost.Math quantiles)
#   libyaml-cpp-dev -> yaml-cpp           (scenario loading, engine/sib/load.cpp only)
#   libxlsxwriter-dev -> PkgConfig::xlsxwriter (the .xlsx workbook, engine/sib/xlsx.cpp only)
#   libcli11-dev    -> CLI11::CLI11       (cli/ only)
#   doctest-dev     -> doctest::doctest   (tests/ only)
#   libbenchmark-dev-> benchmark::benchmark (bench/ only)
#   pybind11-dev, python3-dev -> pybind11::module (cli/python/ only; optional: without them
#                     everything else builds and the Python module is left out)
#   libopenmpi-dev  -> MPI::MPI_CXX       (optional: runs spread over mpirun's processes,
#                                          engine/sib/distributed.cpp only; openmpi-bin runs them)
find_package(Threads REQUIRED)
find_package(Eigen3 3.3 REQUIRED NO_MODULE)
find_package(Boost 1.74 REQUIRED)
find_package(yaml-cpp REQUIRED)
# Debian's libxlsxwriter ships a pkg-config file and no CMake package.
find_package(PkgConfig REQUIRED)
pkg_check_modules(xlsxwriter REQUIRED IMPORTED_TARGET xlsxwriter)
if(NOT SIBSIM_FUZZ)
  find_package(CLI11 REQUIRED)
endif()
if(SIBSIM_TESTS)
  find_package(doctest REQUIRED)
endif()
if(SIBSIM_BENCH)
  find_package(benchmark REQUIRED)
endif()
# The Python module (cli/python/): Debian's own interpreter, /usr/bin/python3, whose
# python3-numpy and python3-pybind11 are the ones setup.sh installs (a python3 earlier on PATH,
# such as pyenv's, may lack them). Built in the ASan+UBSan build too, where its tests run the
# uninstrumented interpreter with GCC's sanitizer runtime preloaded and check for leaks
# (tests/python/CMakeLists.txt); left out of the TSan and fuzzing builds, and of a sanitizer
# build by another compiler.
if(SIBSIM_PYTHON AND NOT SIBSIM_TSAN AND NOT SIBSIM_FUZZ
   AND (NOT SIBSIM_SANITIZE OR CMAKE_CXX_COMPILER_ID STREQUAL "GNU"))
  if(NOT DEFINED Python3_EXECUTABLE AND EXISTS /usr/bin/python3)
    set(Python3_EXECUTABLE /usr/bin/python3)
  endif()
  find_package(Python3 COMPONENTS Interpreter Development.Module)
  if(Python3_FOUND)
    find_package(pybind11 2.6 CONFIG)
  endif()
  if(NOT Python3_FOUND OR NOT pybind11_FOUND)
    message(STATUS "sibsim: pybind11 or the Python headers not found; the Python module is not built")
  endif()
endif()
# MPI is optional: without it (or with -DSIBSIM_MPI=OFF) sibsim builds the same and runs as one
# process. Off by default in the sanitizer and fuzzing builds: OpenMPI is not built with their
# instrumentation (ASan reports its allocations as leaks, TSan its threads as races).
find_package(MPI COMPONENTS CXX QUIET)
if(MPI_CXX_FOUND AND NOT SIBSIM_SANITIZE AND NOT SIBSIM_TSAN AND NOT SIBSIM_FUZZ)
  set(SIBSIM_MPI_DEFAULT ON)
else()
  set(SIBSIM_MPI_DEFAULT OFF)
endif()
option(SIBSIM_MPI "Spread run, sweep, compare and sensitivity over the processes of mpirun (OpenMPI)"
       ${SIBSIM_MPI_DEFAULT})
if(SIBSIM_MPI AND NOT MPI_CXX_FOUND)
  message(FATAL_ERROR "SIBSIM_MPI is ON but no MPI was found (Debian: libopenmpi-dev)")
endif()
