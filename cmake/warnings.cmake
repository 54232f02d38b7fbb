# Warnings through one interface target; every sibsim target links it.
add_library(sib_warnings INTERFACE)
add_library(sib::warnings ALIAS sib_warnings)
target_compile_options(sib_warnings INTERFACE
  -Wall -Wextra -Wpedantic -Wconversion -Wshadow
  $<$<BOOL:${SIBSIM_WERROR}>:-Werror>)
# Under AddressSanitizer GCC 12's -Wmaybe-uninitialized reports false positives inside libstdc++
# (std::regex's automaton, std::optional copies): the instrumentation defeats its flow analysis.
# The ordinary build keeps the warning.
if(SIBSIM_SANITIZE AND CMAKE_CXX_COMPILER_ID STREQUAL "GNU")
  target_compile_options(sib_warnings INTERFACE -Wno-maybe-uninitialized)
endif()

# Sanitizers through one interface target too.
add_library(sib_sanitize INTERFACE)
add_library(sib::sanitize ALIAS sib_sanitize)
if(SIBSIM_SANITIZE)
  target_compile_options(sib_sanitize INTERFACE
    -fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(sib_sanitize INTERFACE -fsanitize=address,undefined)
endif()
if(SIBSIM_TSAN)
  target_compile_options(sib_sanitize INTERFACE -fsanitize=thread -fno-omit-frame-pointer)
  target_link_options(sib_sanitize INTERFACE -fsanitize=thread)
endif()
if(SIBSIM_FUZZ)
  # Coverage for libFuzzer in the engine; the fuzz target itself links -fsanitize=fuzzer.
  target_compile_options(sib_sanitize INTERFACE
    -fsanitize=fuzzer-no-link,address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer)
  target_link_options(sib_sanitize INTERFACE -fsanitize=address,undefined)
endif()
