// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// vivarium-sandbox-init: the first program bwrap runs inside a run's sandbox.
//
//   vivarium-sandbox-init [--nproc N] [--ready-fd FD] [--lifeline FD] -- COMMAND [ARGS...]
//   vivarium-sandbox-init --guard FD -- /usr/bin/bwrap ARGS...
//
// --guard (on the host, what the engine starts): runs bwrap as a child in the run's process
//   group and kills that group when the lifeline FD hangs up. bwrap's sandbox child waits for
//   its parent's go-ahead after clone(); if bwrap is killed in between, that child blocks
//   forever, in the run's process group: this is what kills it. bwrap's exit status or signal
//   is passed on as the guard's own.
//
// --nproc: RLIMIT_NPROC, set here, inside the sandbox's own user namespace, because the kernel
//   counts processes per (user namespace, uid): set outside, the limit would count every
//   process of the host uid (the engine user's desktop, or every other run); set here, it
//   bounds this run alone.
// --ready-fd: a byte is written to FD right before the command is executed, so whoever started
//   bwrap can tell "the sandbox was set up and the command started" from a bwrap failure.
// --lifeline: the read end of a pipe whose only writer is the engine. bwrap's --die-with-parent
//   arms the sandbox's pid 1 only after its whole mount setup, so an engine killed in that
//   window would leave the sandbox orphaned and running. Here the command runs as a child, and
//   when the lifeline hangs up (the engine is gone, however it died) everything in the sandbox
//   is killed; if it is gone already, nothing starts. The command's exit status is passed on
//   (a signal N as 128 + N, as bwrap itself reports it).
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fcntl.h>
#include <initializer_list>
#include <poll.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

namespace {

constexpr int ExitSetup = 125;

int parseFd(const char* text)
{
    char* end = nullptr;
    const long v = std::strtol(text, &end, 10);
    return (end && *end == '\0' && v > 2 && v < 65536) ? int(v) : -1;
}

[[noreturn]] void execCommand(char** argv, int readyFd)
{
    if (readyFd >= 0) {
        const char ready = '1';
        (void)!::write(readyFd, &ready, 1);
        ::close(readyFd);
    }
    ::execvp(argv[0], argv);
    // Like a shell: 127 not found, 126 found but not executable.
    const int err = errno;
    std::fprintf(stderr, "vivarium-sandbox-init: %s: %s\n", argv[0], std::strerror(err));
    ::_exit(err == ENOENT ? 127 : 126);
}

bool hungUp(int fd, int timeoutMs)
{
    pollfd p{fd, POLLIN, 0};
    const int n = ::poll(&p, 1, timeoutMs);
    // The engine never writes: anything but silence means its end is closed.
    return n > 0 && (p.revents & (POLLHUP | POLLERR | POLLIN)) != 0;
}

[[noreturn]] void killEverything()
{
    // Every process of this pid namespace we may signal (all of the run's); then ourselves,
    // after which bwrap's pid 1 exits and the kernel tears the namespace down.
    ::kill(-1, SIGKILL);
    ::_exit(128 + SIGKILL);
}

int exitStatusOf(int status)
{
    if (WIFEXITED(status))
        return WEXITSTATUS(status);
    if (WIFSIGNALED(status))
        return 128 + WTERMSIG(status);
    return 1;
}

/** Run the command as a child while watching the lifeline. */
[[noreturn]] void superviseCommand(char** argv, int readyFd, int lifeline)
{
    ::fcntl(lifeline, F_SETFD, FD_CLOEXEC);
    if (hungUp(lifeline, 0))
        ::_exit(ExitSetup); // the engine died while bwrap was setting up: start nothing
    const pid_t child = ::fork();
    if (child < 0) {
        std::fprintf(stderr, "vivarium-sandbox-init: fork: %s\n", std::strerror(errno));
        ::_exit(ExitSetup);
    }
    if (child == 0)
        execCommand(argv, readyFd);
    if (readyFd >= 0)
        ::close(readyFd);
    const int pidfd = int(::syscall(SYS_pidfd_open, child, 0));
    for (;;) {
        if (pidfd >= 0) {
            pollfd fds[2] = {{lifeline, POLLIN, 0}, {pidfd, POLLIN, 0}};
            const int n = ::poll(fds, 2, -1);
            if (n < 0 && errno != EINTR)
                break;
            if (n > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLIN)) != 0)
                killEverything();
        } else if (hungUp(lifeline, 100)) {
            // No pidfd (kernel < 5.3): look at both every 100 ms.
            killEverything();
        }
        int status = 0;
        const pid_t done = ::waitpid(child, &status, WNOHANG);
        if (done == child)
            ::_exit(exitStatusOf(status));
        if (done < 0 && errno != EINTR)
            break;
    }
    // Cannot watch or wait any more: do not leave the command unsupervised.
    killEverything();
}

/**
 * --guard: bwrap as a child in the process group the engine made for this run (pgid = our
 * pid); the guard itself moves to the engine's group right away, so that a kill of the run's
 * group reaches bwrap (and a sandbox child blocked in its start) but not the guard, which then
 * reaps bwrap, exits the way bwrap did, and leaves no orphan for pid 1 to reap.
 */
[[noreturn]] void guardBwrap(char** argv, int lifeline)
{
    const pid_t guard = ::getpid();
    const pid_t runGroup = ::getpgrp();
    const pid_t child = ::fork();
    if (child < 0) {
        std::fprintf(stderr, "vivarium-sandbox-init: fork: %s\n", std::strerror(errno));
        ::_exit(ExitSetup);
    }
    if (child == 0) {
        // bwrap dies with its guard.
        ::prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (::getppid() != guard)
            ::_exit(ExitSetup);
        ::execv(argv[0], argv);
        std::fprintf(stderr, "vivarium-sandbox-init: %s: %s\n", argv[0], std::strerror(errno));
        ::_exit(ExitSetup);
    }
    // Out of the run's group, into the engine's; the terminal's job-control signals for the
    // engine are not ours to die of (the lifeline says when the engine is gone).
    ::setpgid(0, ::getpgid(::getppid()));
    for (int sig : {SIGINT, SIGQUIT, SIGHUP, SIGTSTP, SIGTTIN, SIGTTOU, SIGPIPE})
        std::signal(sig, SIG_IGN);
    const int pidfd = int(::syscall(SYS_pidfd_open, child, 0));
    bool killed = false;
    for (;;) {
        bool engineGone = false;
        if (pidfd >= 0) {
            pollfd fds[2] = {{lifeline, POLLIN, 0}, {pidfd, POLLIN, 0}};
            const int n = ::poll(fds, 2, killed ? 100 : -1);
            engineGone = n > 0 && (fds[0].revents & (POLLHUP | POLLERR | POLLIN)) != 0;
        } else {
            engineGone = hungUp(lifeline, 100);
        }
        if (engineGone && !killed) {
            // bwrap and a sandbox child blocked in its start (still in the run's group).
            ::kill(-runGroup, SIGKILL);
            ::kill(child, SIGKILL);
            killed = true;
        }
        int status = 0;
        const pid_t done = ::waitpid(child, &status, killed ? 0 : WNOHANG);
        if (done == child) {
            if (!killed && WIFSIGNALED(status)) {
                // Die the same way, so the engine sees what bwrap saw.
                std::signal(WTERMSIG(status), SIG_DFL);
                ::kill(guard, WTERMSIG(status));
            }
            ::_exit(exitStatusOf(status));
        }
        if (done < 0 && errno != EINTR) {
            ::kill(-runGroup, SIGKILL);
            ::_exit(128 + SIGKILL);
        }
    }
}

} // namespace

int main(int argc, char** argv)
{
    int readyFd = -1;
    int lifeline = -1;
    int guard = -1;
    int i = 1;
    for (; i < argc; ++i) {
        if (std::strcmp(argv[i], "--") == 0) {
            ++i;
            break;
        }
        if (std::strcmp(argv[i], "--nproc") == 0 && i + 1 < argc) {
            char* end = nullptr;
            const unsigned long long n = std::strtoull(argv[++i], &end, 10);
            if (!end || *end != '\0' || n == 0) {
                std::fprintf(stderr, "vivarium-sandbox-init: bad --nproc %s\n", argv[i]);
                return ExitSetup;
            }
            // Soft = hard: the run cannot raise it again (that takes CAP_SYS_RESOURCE in the
            // initial user namespace).
            const rlimit lim{rlim_t(n), rlim_t(n)};
            if (::setrlimit(RLIMIT_NPROC, &lim) != 0) {
                std::fprintf(stderr, "vivarium-sandbox-init: setrlimit(RLIMIT_NPROC): %s\n",
                             std::strerror(errno));
                return ExitSetup;
            }
            continue;
        }
        if (std::strcmp(argv[i], "--ready-fd") == 0 && i + 1 < argc) {
            readyFd = parseFd(argv[++i]);
            if (readyFd >= 0)
                ::fcntl(readyFd, F_SETFD, FD_CLOEXEC);
            continue;
        }
        if (std::strcmp(argv[i], "--lifeline") == 0 && i + 1 < argc) {
            lifeline = parseFd(argv[++i]);
            continue;
        }
        if (std::strcmp(argv[i], "--guard") == 0 && i + 1 < argc) {
            guard = parseFd(argv[++i]);
            if (guard < 0) {
                std::fprintf(stderr, "vivarium-sandbox-init: bad --guard %s\n", argv[i]);
                return ExitSetup;
            }
            continue;
        }
        std::fprintf(stderr, "vivarium-sandbox-init: unknown argument %s\n", argv[i]);
        return ExitSetup;
    }
    if (i >= argc) {
        std::fprintf(stderr, "usage: vivarium-sandbox-init [--nproc N] [--ready-fd FD] "
                             "[--lifeline FD] -- COMMAND [ARGS...]\n"
                             "       vivarium-sandbox-init --guard FD -- BWRAP ARGS...\n");
        return ExitSetup;
    }
    if (guard >= 0)
        guardBwrap(argv + i, guard);
    if (lifeline >= 0)
        superviseCommand(argv + i, readyFd, lifeline);
    execCommand(argv + i, readyFd);
}
