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
