/* segv-trace.c: test-only LD_PRELOAD for the dom0 image (tests/xen):
 * on SIGSEGV/SIGABRT print a backtrace to stderr (xenithd's log, copied
 * to the serial log), then die with the signal. Resolve the
 * "xenithd(+0x...)" offsets with addr2line -e build/xenithd. */
#define _GNU_SOURCE
#include <execinfo.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <ucontext.h>
#include <unistd.h>

static void segv_trace_handler(int sig, siginfo_t *si, void *uc)
{
    void *frames[64];
    int n = backtrace(frames, 64);
    static const char msg[] = "segv-trace: fatal signal, backtrace:\n";

    ucontext_t *u = uc;
    char line[160], buf[4096];
    void *ret;
    ssize_t k;
    int fd;

    (void)si;
    if (write(2, msg, sizeof(msg) - 1) < 0)
        _exit(128 + sig);
    /* a call through NULL leaves no frame: the caller is at [rsp] */
    ret = *(void **)u->uc_mcontext.gregs[REG_RSP];
    k = snprintf(line, sizeof(line), "segv-trace: rip=%p [rsp]=%p\n",
                 (void *)u->uc_mcontext.gregs[REG_RIP], ret);
    if (write(2, line, (size_t)k) < 0)
        _exit(128 + sig);
    backtrace_symbols_fd(&ret, 1, 2);
    backtrace_symbols_fd(frames, n, 2);
    fd = open("/proc/self/maps", O_RDONLY);
    while (fd >= 0 && (k = read(fd, buf, sizeof(buf))) > 0)
        if (write(2, buf, (size_t)k) < 0)
            break;
    signal(sig, SIG_DFL);
    raise(sig);
}

__attribute__((constructor)) static void segv_trace_init(void)
{
    struct sigaction sa;
    void *frames[1];

    backtrace(frames, 1); /* load libgcc_s now, not in the handler */
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = segv_trace_handler;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigaction(SIGSEGV, &sa, NULL);
    sigaction(SIGABRT, &sa, NULL);
}
