# LibTorch: Debian's libtorch-dev (CPU) by default; a CUDA build (for example the one inside a
# pip torch package) is used when CMAKE_PREFIX_PATH points at its share/cmake folder.
find_package(Torch REQUIRED)
# TorchConfig puts its flags into TORCH_CXX_FLAGS for the whole project; keep them on the learn
# targets only (docs/build.md).
separate_arguments(SBENCH_TORCH_CXX_FLAGS UNIX_COMMAND "${TORCH_CXX_FLAGS}")
