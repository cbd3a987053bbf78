// Stand-in for Apple's Foundation.h: only the declarations
// runtime/metal/MetalDevice.mm uses, so that clang can parse and type-check
// that file on Linux (test metal.backend_parses). Not Apple's API: a
// misspelled Metal or Foundation name is caught only on a Mac.
#pragma once
#include <stddef.h>
#include <stdint.h>
#define TARGET_OS_OSX 1
#define nil nullptr
typedef unsigned long NSUInteger;
typedef long NSInteger;
typedef double CFTimeInterval;
typedef signed char BOOL;
#define YES ((BOOL)1)
#define NO ((BOOL)0)
typedef struct _NSRange { NSUInteger location, length; } NSRange;
static inline NSRange NSMakeRange(NSUInteger l, NSUInteger n) { NSRange r = {l, n}; return r; }
@protocol NSObject
@end
__attribute__((objc_root_class))
@interface NSObject <NSObject>
+ (instancetype)alloc;
- (instancetype)init;
+ (instancetype)new;
@end
typedef NSUInteger NSStringEncoding;
enum { NSUTF8StringEncoding = 4 };
@interface NSString : NSObject
@property (readonly) const char *UTF8String;
+ (instancetype)stringWithUTF8String:(const char *)s;
- (instancetype)initWithBytes:(const void *)bytes length:(NSUInteger)len encoding:(NSStringEncoding)enc;
@end
@interface NSError : NSObject
@property (readonly, copy) NSString *localizedDescription;
@end
@interface NSArray<ObjectType> : NSObject
@property (readonly) NSUInteger count;
- (ObjectType)objectAtIndexedSubscript:(NSUInteger)idx;
@end
@protocol OS_dispatch_data <NSObject>
@end
typedef NSObject<OS_dispatch_data> *dispatch_data_t;
typedef void (^dispatch_block_t)(void);
typedef NSObject *dispatch_queue_t;
#define DISPATCH_DATA_DESTRUCTOR_DEFAULT NULL
dispatch_data_t dispatch_data_create(const void *buffer, size_t size, dispatch_queue_t queue, dispatch_block_t destructor);
