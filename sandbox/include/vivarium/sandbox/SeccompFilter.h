// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QList>
#include <QString>

namespace vivarium {

/** One entry of the deny-list, as documented and as installed. */
struct SeccompRule
{
    QString syscall;
    int errnoValue = 0; ///< what the call fails with (EPERM, ENOSYS, EAFNOSUPPORT, ...)
    QString condition;  ///< empty: always; else the argument test, e.g. "arg0 & CLONE_NEWUSER"
    QString why;        ///< one short reason
    bool known = true;  ///< false: this libseccomp/architecture has no such syscall (skipped)
};

/** Which deny-list. */
struct SeccompOptions
{
    /**
     * Also refuse AF_INET/AF_INET6 sockets: the landlock tier has no empty network namespace,
     * so the only network it may have is none.
     */
    bool denyInet = false;
};

/**
 * The seccomp deny-list of a sandboxed run (DESIGN section 5), built with libseccomp: default
 * allow, the listed calls fail with an errno instead of running. Calls of any other
 * architecture (32-bit int 0x80, x32) kill the process, so the list cannot be sidestepped
 * through a compat entry point.
 */
class SeccompFilter
{
public:
    /** The rules, in the order they are added. */
    static QList<SeccompRule> rules(const SeccompOptions& options = {});
    /**
     * The filter as a classic BPF program (an array of struct sock_filter), what bwrap's
     * --seccomp FD reads and what prctl(PR_SET_SECCOMP) takes. Built once per option set.
     */
    static Result<QByteArray> program(const SeccompOptions& options = {});
    /** libseccomp's human-readable dump of the same filter (pseudo filter code), for debugging. */
    static Result<QByteArray> pseudoCode(const SeccompOptions& options = {});
};

} // namespace vivarium
