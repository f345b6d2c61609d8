// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// sandbox_probe: tries one escape or abuse from inside a sandbox and prints one result line,
// "blocked <detail>" or "escaped <detail>" (exit 0 / 10), or a report (env, ps, whoami).
// Driven by tst_sandboxattacks through `vivarium sandbox run`. Plain libc: it must run in the
// sandbox with nothing but /usr, and its behaviour must be obvious from the source.
#include <arpa/inet.h>
#include <cerrno>
#include <csignal>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <dirent.h>
#include <fcntl.h>
#include <linux/netlink.h>
#include <netdb.h>
#include <netinet/in.h>
#include <sched.h>
#include <string>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/mount.h>
#include <sys/ptrace.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/syscall.h>
#include <sys/sysmacros.h>
#include <sys/time.h>
#include <sys/un.h>
#include <sys/wait.h>
#include <termios.h>
#include <time.h>
#include <unistd.h>
#include <vector>

extern char** environ;

namespace {

constexpr int Blocked = 0;
constexpr int Escaped = 10;
constexpr int Usage = 2;

int blocked(const std::string& detail)
{
    std::printf("blocked %s\n", detail.c_str());
    std::fflush(stdout);
    return Blocked;
}

int escaped(const std::string& detail)
{
    std::printf("escaped %s\n", detail.c_str());
    std::fflush(stdout);
    return Escaped;
}

std::string err(int e)
{
    return std::string(strerrordesc_np(e) ? strerrordesc_np(e) : "?") + " (errno " +
           std::to_string(e) + ")";
}

std::string readSmall(const char* path, size_t max = 4096)
{
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return {};
    std::string out(max, '\0');
    const ssize_t n = ::read(fd, out.data(), max);
    ::close(fd);
    out.resize(n > 0 ? size_t(n) : 0);
    return out;
}

std::string statusField(const char* name)
{
    const std::string status = readSmall("/proc/self/status", 16384);
    const std::string key = std::string(name) + ":";
    const size_t at = status.find(key);
    if (at == std::string::npos)
        return "?";
    const size_t end = status.find('\n', at);
    std::string v = status.substr(at + key.size(), end - at - key.size());
    while (!v.empty() && (v.front() == ' ' || v.front() == '\t'))
        v.erase(v.begin());
    return v;
}

int cmdEnv(int argc, char** argv)
{
    if (argc < 1) {
        // The whole environment, one per line, for tests that compare it.
        for (char** e = environ; *e; ++e)
            std::printf("%s\n", *e);
        return 0;
    }
    const char* v = std::getenv(argv[0]);
    return v ? escaped(std::string(argv[0]) + "=" + v) : blocked(std::string(argv[0]) + " unset");
}

int cmdRead(const char* path)
{
    const int fd = ::open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return blocked(std::string("open ") + path + ": " + err(errno));
    char buf[256];
    const ssize_t n = ::read(fd, buf, sizeof buf - 1);
    const int e = errno;
    ::close(fd);
    if (n < 0)
        return blocked(std::string("read ") + path + ": " + err(e));
    buf[n] = '\0';
    return escaped(std::string("read ") + std::to_string(n) + " bytes of " + path + ": " + buf);
}

int cmdWrite(const char* path)
{
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return blocked(std::string("open ") + path + ": " + err(errno));
    const ssize_t n = ::write(fd, "pwned\n", 6);
    const int e = errno;
    ::close(fd);
    if (n != 6)
        return blocked(std::string("write ") + path + ": " + err(e));
    return escaped(std::string("wrote ") + path);
}

int cmdLs(const char* path)
{
    DIR* d = ::opendir(path);
    if (!d)
        return blocked(std::string("opendir ") + path + ": " + err(errno));
    std::string names;
    while (const dirent* e = ::readdir(d)) {
        if (std::strcmp(e->d_name, ".") == 0 || std::strcmp(e->d_name, "..") == 0)
            continue;
        names += ' ';
        names += e->d_name;
    }
    ::closedir(d);
    std::printf("entries%s\n", names.c_str());
    return 0;
}

int cmdConnect(int family, const char* host, const char* port)
{
    const int s = ::socket(family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return blocked(std::string("socket: ") + err(errno));
    sockaddr_storage ss{};
    socklen_t len = 0;
    if (family == AF_INET) {
        auto* a = reinterpret_cast<sockaddr_in*>(&ss);
        a->sin_family = AF_INET;
        a->sin_port = htons(uint16_t(std::atoi(port)));
        ::inet_pton(AF_INET, host, &a->sin_addr);
        len = sizeof *a;
    } else {
        auto* a = reinterpret_cast<sockaddr_in6*>(&ss);
        a->sin6_family = AF_INET6;
        a->sin6_port = htons(uint16_t(std::atoi(port)));
        ::inet_pton(AF_INET6, host, &a->sin6_addr);
        len = sizeof *a;
    }
    // Never wait on real traffic: an answer must come at once or not at all.
    const timeval tv{2, 0};
    ::setsockopt(s, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof tv);
    timespec t0{};
    ::clock_gettime(CLOCK_MONOTONIC, &t0);
    const int rc = ::connect(s, reinterpret_cast<sockaddr*>(&ss), len);
    const int e = errno;
    timespec t1{};
    ::clock_gettime(CLOCK_MONOTONIC, &t1);
    ::close(s);
    const long ms = (t1.tv_sec - t0.tv_sec) * 1000 + (t1.tv_nsec - t0.tv_nsec) / 1000000;
    if (rc == 0)
        return escaped(std::string("connected to ") + host + " port " + port);
    return blocked(std::string("connect: ") + err(e) + " after " + std::to_string(ms) + " ms");
}

int cmdUdp(const char* host, const char* port)
{
    const int s = ::socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return blocked(std::string("socket: ") + err(errno));
    sockaddr_in a{};
    a.sin_family = AF_INET;
    a.sin_port = htons(uint16_t(std::atoi(port)));
    ::inet_pton(AF_INET, host, &a.sin_addr);
    const ssize_t n = ::sendto(s, "ping", 4, 0, reinterpret_cast<sockaddr*>(&a), sizeof a);
    const int e = errno;
    ::close(s);
    if (n == 4)
        return escaped(std::string("sent a datagram to ") + host);
    return blocked(std::string("sendto: ") + err(e));
}

int cmdDns(const char* name)
{
    addrinfo hints{};
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    addrinfo* res = nullptr;
    const int rc = ::getaddrinfo(name, "80", &hints, &res);
    if (rc != 0)
        return blocked(std::string("getaddrinfo: ") + gai_strerror(rc));
    char text[INET6_ADDRSTRLEN] = "?";
    if (res->ai_family == AF_INET)
        ::inet_ntop(AF_INET, &reinterpret_cast<sockaddr_in*>(res->ai_addr)->sin_addr, text,
                    sizeof text);
    else
        ::inet_ntop(AF_INET6, &reinterpret_cast<sockaddr_in6*>(res->ai_addr)->sin6_addr, text,
                    sizeof text);
    ::freeaddrinfo(res);
    return escaped(std::string("resolved ") + name + " to " + text);
}

int cmdUnixConnect(const char* path)
{
    const int s = ::socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (s < 0)
        return blocked(std::string("socket: ") + err(errno));
    sockaddr_un a{};
    a.sun_family = AF_UNIX;
    socklen_t len = sizeof a;
    if (path[0] == '@') {
        // Abstract namespace: per network namespace.
        const size_t n = std::strlen(path + 1);
        std::memcpy(a.sun_path + 1, path + 1, n);
        len = socklen_t(offsetof(sockaddr_un, sun_path) + 1 + n);
    } else {
        std::strncpy(a.sun_path, path, sizeof a.sun_path - 1);
    }
    const int rc = ::connect(s, reinterpret_cast<sockaddr*>(&a), len);
    const int e = errno;
    ::close(s);
    if (rc == 0)
        return escaped(std::string("connected to ") + path);
    return blocked(std::string("connect ") + path + ": " + err(e));
}

int cmdPtrace()
{
    // The parent is bwrap's init (or the engine, unsandboxed): attaching must be refused, and
    // so must tracing ourselves.
    const long a = ::ptrace(PTRACE_ATTACH, ::getppid(), nullptr, nullptr);
    const int e1 = errno;
    const long b = ::ptrace(PTRACE_TRACEME, 0, nullptr, nullptr);
    const int e2 = errno;
    if (a == 0 || b == 0)
        return escaped("ptrace succeeded");
    return blocked("PTRACE_ATTACH: " + err(e1) + "; PTRACE_TRACEME: " + err(e2));
}

int cmdIoUring()
{
    unsigned char params[120] = {};
    const long fd = ::syscall(SYS_io_uring_setup, 4, params);
    if (fd >= 0)
        return escaped("io_uring_setup gave fd " + std::to_string(fd));
    return blocked("io_uring_setup: " + err(errno));
}

int cmdUnshare()
{
    struct Try
    {
        int flag;
        const char* name;
    };
    std::string detail;
    for (const Try& t : {Try{CLONE_NEWUSER, "user"}, Try{CLONE_NEWNS, "mnt"},
                         Try{CLONE_NEWNET, "net"}, Try{CLONE_NEWPID, "pid"}}) {
        if (::unshare(t.flag) == 0)
            return escaped(std::string("unshare(") + t.name + ")");
        detail += std::string(t.name) + ": " + err(errno) + "; ";
    }
    // The same through clone(2) directly.
    const long pid = ::syscall(SYS_clone, CLONE_NEWUSER | SIGCHLD, nullptr, nullptr, nullptr, 0);
    if (pid == 0)
        ::_exit(0);
    if (pid > 0) {
        ::waitpid(pid_t(pid), nullptr, 0);
        return escaped("clone(CLONE_NEWUSER)");
    }
    detail += "clone(CLONE_NEWUSER): " + err(errno);
    return blocked(detail);
}

int cmdMount()
{
    if (::mount("none", "/tmp", "tmpfs", 0, nullptr) == 0)
        return escaped("mounted a tmpfs on /tmp");
    const int e1 = errno;
    if (::mount("/usr", "/tmp", nullptr, MS_BIND, nullptr) == 0)
        return escaped("bind-mounted /usr");
    return blocked("mount tmpfs: " + err(e1) + "; bind: " + err(errno));
}

int cmdNetlink()
{
    const int s = ::socket(AF_NETLINK, SOCK_RAW | SOCK_CLOEXEC, NETLINK_ROUTE);
    if (s >= 0) {
        ::close(s);
        return escaped("AF_NETLINK socket");
    }
    const int e1 = errno;
    const int p = ::socket(AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0);
    if (p >= 0) {
        ::close(p);
        return escaped("AF_PACKET socket");
    }
    return blocked("AF_NETLINK: " + err(e1) + "; AF_PACKET: " + err(errno));
}

int cmdTiocsti()
{
    // Into whatever stdin/stdout/stderr are (a terminal when a user runs it by hand), and into
    // the controlling terminal if there were one.
    std::string detail;
    const char c = 'x';
    for (int fd : {0, 1, 2}) {
        if (::ioctl(fd, TIOCSTI, &c) == 0)
            return escaped("TIOCSTI on fd " + std::to_string(fd));
        detail += "fd " + std::to_string(fd) + ": " + err(errno) + "; ";
    }
    const int tty = ::open("/dev/tty", O_RDWR | O_CLOEXEC);
    if (tty >= 0) {
        const int rc = ::ioctl(tty, TIOCSTI, &c);
        ::close(tty);
        if (rc == 0)
            return escaped("TIOCSTI on /dev/tty");
    }
    detail += "/dev/tty: " + err(errno);
    return blocked(detail);
}

int cmdMknod(const char* path)
{
    if (::mknod(path, S_IFCHR | 0666, makedev(1, 3)) == 0)
        return escaped(std::string("created character device ") + path);
    const int e1 = errno;
    if (::mknod(path, S_IFBLK | 0666, makedev(8, 0)) == 0)
        return escaped(std::string("created block device ") + path);
    return blocked("S_IFCHR: " + err(e1) + "; S_IFBLK: " + err(errno));
}

int cmdSetuid()
{
    // A setuid-root binary must not lift us: no_new_privs is set and /usr is mounted nosuid.
    const char* binaries[] = {"/usr/bin/su",   "/usr/bin/passwd", "/usr/bin/mount",
                              "/usr/bin/chfn", "/usr/bin/newgrp", "/usr/bin/gpasswd"};
    const char* found = nullptr;
    for (const char* b : binaries) {
        struct stat st
        {
        };
        if (::stat(b, &st) == 0 && (st.st_mode & S_ISUID) && st.st_uid != ::getuid()) {
            found = b;
            break;
        }
    }
    struct statvfs vfs
    {
    };
    const bool nosuid = ::statvfs("/usr", &vfs) == 0 && (vfs.f_flag & ST_NOSUID);
    const std::string nnp = statusField("NoNewPrivs");
    std::string detail = std::string("setuid binary ") + (found ? found : "(none found)") +
                         ", /usr nosuid=" + (nosuid ? "1" : "0") + ", NoNewPrivs=" + nnp;
    if (!found)
        return nnp == "1" ? blocked(detail) : escaped(detail + " (no binary to try)");
    // Run it and look at its credentials while it waits on stdin.
    int in[2];
    if (::pipe2(in, O_CLOEXEC) != 0)
        return blocked(detail + ", pipe: " + err(errno));
    const pid_t child = ::fork();
    if (child == 0) {
        ::dup2(in[0], 0);
        const int devnull = ::open("/dev/null", O_WRONLY);
        ::dup2(devnull, 1);
        ::dup2(devnull, 2);
        ::execl(found, found, static_cast<char*>(nullptr));
        ::_exit(127);
    }
    std::string euid = "?";
    const std::string mine = std::to_string(::geteuid());
    const std::string base = std::string(found).substr(std::string(found).rfind('/') + 1);
    const std::string execd = "Name:\t" + base.substr(0, 15);
    bool lifted = false;
    for (int i = 0; i < 200 && child > 0; ++i) {
        const std::string status =
            readSmall(("/proc/" + std::to_string(child) + "/status").c_str(), 16384);
        const size_t at = status.find("Uid:");
        // Only once the exec has happened (its name shows): before, it is our fork.
        if (at != std::string::npos && status.find(execd) != std::string::npos) {
            // Uid: real effective saved fs
            const size_t end = status.find('\n', at);
            const std::string line = status.substr(at + 4, end - at - 4);
            char* p = nullptr;
            std::strtoul(line.c_str(), &p, 10);
            euid = std::to_string(std::strtoul(p, nullptr, 10));
            lifted = euid != mine;
            break;
        }
        ::usleep(5000);
    }
    ::close(in[1]);
    ::close(in[0]);
    if (child > 0) {
        ::kill(child, SIGKILL);
        ::waitpid(child, nullptr, 0);
    }
    detail += ", its euid " + euid + " (ours " + mine + ")";
    if (lifted || !nosuid || nnp != "1")
        return escaped(detail);
    return blocked(detail);
}

int cmdForkCount()
{
    // Fork until refused; children wait to be killed. Bounded by RLIMIT_NPROC.
    int n = 0;
    for (; n < 100000; ++n) {
        const pid_t pid = ::fork();
        if (pid < 0) {
            const int e = errno;
            return blocked("fork refused after " + std::to_string(n) + " children: " + err(e));
        }
        if (pid == 0) {
            for (;;)
                ::pause();
        }
    }
    return escaped("forked " + std::to_string(n) + " children");
}

[[noreturn]] void cmdForkBomb()
{
    // The real thing: every process forks forever. Only the wall clock ends it.
    std::printf("bombing\n");
    std::fflush(stdout);
    for (;;)
        ::fork();
}

int cmdMemBomb()
{
    // Reserve (and touch the first page of) 64 MiB blocks until refused: bounded by RLIMIT_AS.
    constexpr size_t Block = size_t(64) << 20;
    size_t total = 0;
    for (int i = 0; i < 4096; ++i) {
        void* p =
            ::mmap(nullptr, Block, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (p == MAP_FAILED) {
            const int e = errno;
            return blocked("mmap refused after " + std::to_string(total >> 20) + " MiB: " + err(e));
        }
        static_cast<char*>(p)[0] = 1;
        total += Block;
    }
    return escaped("reserved " + std::to_string(total >> 20) + " MiB");
}

int cmdFill(const char* path)
{
    // See EFBIG instead of dying of SIGXFSZ, and report how far it got.
    std::signal(SIGXFSZ, SIG_IGN);
    const int fd = ::open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0)
        return blocked(std::string("open ") + path + ": " + err(errno));
    static char chunk[1 << 20];
    std::memset(chunk, 'x', sizeof chunk);
    size_t total = 0;
    for (int i = 0; i < 65536; ++i) {
        const ssize_t n = ::write(fd, chunk, sizeof chunk);
        if (n < 0) {
            const int e = errno;
            ::close(fd);
            return blocked("write refused after " + std::to_string(total >> 20) +
                           " MiB: " + err(e));
        }
        total += size_t(n);
        if (size_t(n) < sizeof chunk) {
            // A short write is the limit's first sign; the next write reports it.
            continue;
        }
    }
    ::close(fd);
    return escaped("wrote " + std::to_string(total >> 20) + " MiB");
}

int cmdFds()
{
    int n = 0;
    for (; n < 1000000; ++n) {
        if (::open("/dev/null", O_RDONLY) < 0) {
            const int e = errno;
            return blocked("open refused after " + std::to_string(n) + " descriptors: " + err(e));
        }
    }
    return escaped("opened " + std::to_string(n) + " descriptors");
}

[[noreturn]] void cmdSpin(bool withChild)
{
    if (withChild && ::fork() == 0) {
        // A stray that ignores SIGTERM: only the kill of the whole sandbox ends it.
        std::signal(SIGTERM, SIG_IGN);
        for (;;) {
        }
    }
    std::signal(SIGTERM, SIG_IGN);
    std::printf("spinning\n");
    std::fflush(stdout);
    for (;;) {
    }
}

int cmdPs()
{
    DIR* d = ::opendir("/proc");
    if (!d)
        return blocked("opendir /proc: " + err(errno));
    int count = 0;
    while (const dirent* e = ::readdir(d)) {
        if (e->d_name[0] < '0' || e->d_name[0] > '9')
            continue;
        std::string cmd = readSmall(("/proc/" + std::string(e->d_name) + "/cmdline").c_str(), 200);
        for (char& c : cmd) {
            if (c == '\0')
                c = ' ';
        }
        std::printf("pid %s %s\n", e->d_name, cmd.c_str());
        ++count;
    }
    ::closedir(d);
    std::printf("count %d\n", count);
    return 0;
}

int cmdWhoami()
{
    char host[256] = "?";
    ::gethostname(host, sizeof host);
    std::printf("uid %d euid %d gid %d egid %d host %s NoNewPrivs %s Seccomp %s\n", int(::getuid()),
                int(::geteuid()), int(::getgid()), int(::getegid()), host,
                statusField("NoNewPrivs").c_str(), statusField("Seccomp").c_str());
    char cwd[4096] = "?";
    if (::getcwd(cwd, sizeof cwd))
        std::printf("cwd %s\n", cwd);
    rlimit r{};
    const std::pair<int, const char*> limits[] = {{RLIMIT_NPROC, "nproc"},
                                                  {RLIMIT_AS, "as"},
                                                  {RLIMIT_FSIZE, "fsize"},
                                                  {RLIMIT_NOFILE, "nofile"},
                                                  {RLIMIT_CORE, "core"}};
    for (const auto& [res, name] : limits) {
        ::getrlimit(static_cast<__rlimit_resource_t>(res), &r);
        std::printf("limit %s %llu %llu\n", name, static_cast<unsigned long long>(r.rlim_cur),
                    static_cast<unsigned long long>(r.rlim_max));
    }
    return 0;
}

int cmdLink(const char* from, const char* to)
{
    if (::link(from, to) == 0)
        return escaped(std::string("hard-linked ") + from + " to " + to);
    const int e = errno;
    return blocked(std::string("link ") + from + ": " + err(e));
}

int cmdSymlinkRead(const char* target, const char* link)
{
    // Plant a symlink to a host path and follow it from in here.
    if (::symlink(target, link) != 0)
        return blocked(std::string("symlink: ") + err(errno));
    return cmdRead(link);
}

} // namespace

int main(int argc, char** argv)
{
    if (argc < 2) {
        std::fprintf(stderr, "usage: sandbox_probe COMMAND [ARGS]\n");
        return Usage;
    }
    const std::string cmd = argv[1];
    char** rest = argv + 2;
    const int n = argc - 2;
    auto need = [n](int k) {
        if (n < k) {
            std::fprintf(stderr, "sandbox_probe: missing argument\n");
            std::exit(Usage);
        }
    };
    if (cmd == "env")
        return cmdEnv(n, rest);
    if (cmd == "read")
        return need(1), cmdRead(rest[0]);
    if (cmd == "write")
        return need(1), cmdWrite(rest[0]);
    if (cmd == "ls")
        return need(1), cmdLs(rest[0]);
    if (cmd == "connect4")
        return need(2), cmdConnect(AF_INET, rest[0], rest[1]);
    if (cmd == "connect6")
        return need(2), cmdConnect(AF_INET6, rest[0], rest[1]);
    if (cmd == "udp")
        return need(2), cmdUdp(rest[0], rest[1]);
    if (cmd == "dns")
        return need(1), cmdDns(rest[0]);
    if (cmd == "unixconnect")
        return need(1), cmdUnixConnect(rest[0]);
    if (cmd == "ptrace")
        return cmdPtrace();
    if (cmd == "io_uring")
        return cmdIoUring();
    if (cmd == "unshare")
        return cmdUnshare();
    if (cmd == "mount")
        return cmdMount();
    if (cmd == "netlink")
        return cmdNetlink();
    if (cmd == "tiocsti")
        return cmdTiocsti();
    if (cmd == "mknod")
        return need(1), cmdMknod(rest[0]);
    if (cmd == "setuid")
        return cmdSetuid();
    if (cmd == "forkcount")
        return cmdForkCount();
    if (cmd == "forkbomb")
        cmdForkBomb();
    if (cmd == "membomb")
        return cmdMemBomb();
    if (cmd == "fill")
        return need(1), cmdFill(rest[0]);
    if (cmd == "fds")
        return cmdFds();
    if (cmd == "spin")
        cmdSpin(n > 0 && std::strcmp(rest[0], "--child") == 0);
    if (cmd == "ps")
        return cmdPs();
    if (cmd == "whoami")
        return cmdWhoami();
    if (cmd == "link")
        return need(2), cmdLink(rest[0], rest[1]);
    if (cmd == "symlink-read")
        return need(2), cmdSymlinkRead(rest[0], rest[1]);
    if (cmd == "exit")
        return need(1), std::atoi(rest[0]);
    std::fprintf(stderr, "sandbox_probe: unknown command %s\n", cmd.c_str());
    return Usage;
}
