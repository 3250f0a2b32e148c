/* A stand-in aco.dll, only for its import library: it exports a function that
 * the real aco.dll does not have (see smoke_bodies_undefined.c). */
__declspec(dllexport) void aco_no_such_function(void) {}
