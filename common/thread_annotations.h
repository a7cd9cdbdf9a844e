// Thread-safety annotations: clang's -Wthread-safety checks at compile time
// that a member marked GUARDED_BY(mu) is only touched with `mu` held and
// that a function marked REQUIRES(mu) is only called with it held. Other
// compilers have no such analysis: the macros expand to nothing there.
//
// Annotate with common::Mutex (common/mutex.h): libstdc++'s std::mutex
// carries no annotations, so the analysis cannot see it taken.
// Members touched by one thread only (the event loop's, the writer
// thread's) have no capability to name; their header says whose they are.
#ifndef COMMON_THREAD_ANNOTATIONS_H_
#define COMMON_THREAD_ANNOTATIONS_H_

#if defined(__clang__)
#define THREAD_ANNOTATION_ATTRIBUTE_(x) __attribute__((x))
#else
#define THREAD_ANNOTATION_ATTRIBUTE_(x)
#endif

// A class whose instances are locks.
#define CAPABILITY(name) THREAD_ANNOTATION_ATTRIBUTE_(capability(name))
// A class whose instances hold a lock for their lifetime (RAII).
#define SCOPED_CAPABILITY THREAD_ANNOTATION_ATTRIBUTE_(scoped_lockable)
// A data member read and written only with `x` held.
#define GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE_(guarded_by(x))
// A pointer member whose pointee is accessed only with `x` held.
#define PT_GUARDED_BY(x) THREAD_ANNOTATION_ATTRIBUTE_(pt_guarded_by(x))
// The caller must hold these.
#define REQUIRES(...) \
  THREAD_ANNOTATION_ATTRIBUTE_(requires_capability(__VA_ARGS__))
// The caller must not hold these (the function takes them).
#define EXCLUDES(...) THREAD_ANNOTATION_ATTRIBUTE_(locks_excluded(__VA_ARGS__))
// The function takes / releases these (no argument: `this`).
#define ACQUIRE(...) \
  THREAD_ANNOTATION_ATTRIBUTE_(acquire_capability(__VA_ARGS__))
#define RELEASE(...) \
  THREAD_ANNOTATION_ATTRIBUTE_(release_capability(__VA_ARGS__))
// The function checks at run time that these are held; after the call the
// analysis assumes they are.
#define ASSERT_CAPABILITY(x) THREAD_ANNOTATION_ATTRIBUTE_(assert_capability(x))
// Turns the analysis off in one function; say why beside it.
#define NO_THREAD_SAFETY_ANALYSIS \
  THREAD_ANNOTATION_ATTRIBUTE_(no_thread_safety_analysis)

#endif  // COMMON_THREAD_ANNOTATIONS_H_
