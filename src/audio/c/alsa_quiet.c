/* libasound's error handler is variadic, which stable Rust cannot define: this one
 * formats the message and hands it to Rust (audio::quiet), which logs it at debug
 * level instead of letting libasound print it on stderr. */
#include <stdarg.h>
#include <stdio.h>

void hopscope_alsa_message(const char *file, int line, const char *function, int err,
                           const char *message);

void hopscope_alsa_error(const char *file, int line, const char *function, int err,
                         const char *fmt, ...) {
    char message[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(message, sizeof message, fmt, ap);
    va_end(ap);
    hopscope_alsa_message(file, line, function, err, message);
}
