// glibc's allocator tunables (mallopt), which Swift's Glibc module does not export.
#include <malloc.h>
