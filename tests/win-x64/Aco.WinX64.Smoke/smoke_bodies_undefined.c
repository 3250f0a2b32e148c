/* Bodies bound to a function that aco.dll does not export: linked against the
 * import library of a stand-in aco.dll that has it (native/tests/CMakeLists.txt),
 * so the Windows loader finds it missing when the real aco.dll is loaded.
 * AcoNativeLibrary.LoadBodies must refuse it with an exception. */
#define SMOKE_EXPORT __declspec(dllexport)

__declspec(dllimport) void aco_no_such_function(void);

SMOKE_EXPORT void smoke_undefined_body(void) { aco_no_such_function(); }
