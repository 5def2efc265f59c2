# Included into llama.cpp's own CMake project while llama-cpp-python is built
# (CMAKE_PROJECT_llama.cpp_INCLUDE, set by the Makefile and the Dockerfile).
#
# llama-cpp-python forces LLAMA_BUILD_COMMON=ON in the cache, but the Python
# bindings only load libllama and libggml*: "common" (and the HTTP client it
# pulls in) is used by the multimodal library and the CLI tools, which we do
# not build (LLAVA_BUILD=OFF). A normal variable shadows the cached one inside
# llama.cpp's directory scope, which halves the compile time.
# Measured before/after in docs/benchmarks.md.
set(LLAMA_BUILD_COMMON OFF)

# GGML_NATIVE (-march=native) turns on AMX where the CPU reports it, but a
# kernel or hypervisor that does not grant the AMX tile state to processes
# kills the first tile instruction with SIGILL ("Illegal instruction"; seen on
# a Sapphire Rapids VM whose CPU flags list amx_tile). The model gains nothing
# measurable from AMX at this size, so native builds leave it out.
if(GGML_NATIVE AND CMAKE_SYSTEM_PROCESSOR MATCHES "^(x86_64|AMD64|amd64)$")
  include(CheckCCompilerFlag)
  check_c_compiler_flag("-mno-amx-tile" HAVE_NO_AMX_FLAG)
  if(HAVE_NO_AMX_FLAG)
    add_compile_options(-mno-amx-tile -mno-amx-int8 -mno-amx-bf16)
  endif()
endif()
