// A portable build (NANOWM_PORTABLE=1) compiles only this file of the shim: the rest is linked
// from libctorch.so, which cpp/ builds from these same sources against the libtorch of the
// machine that runs the binary. In a normal build it is an empty companion of the C++ sources.
typedef int ctorch_code_is_in_libctorch;
