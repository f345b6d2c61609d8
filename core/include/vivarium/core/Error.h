// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>
#include <QStringList>

#include <expected>

namespace vivarium {

/** An error that crosses a module boundary: a stable code plus a sentence for a human. */
struct Error
{
    enum class Code {
        Io,          ///< a file or directory could not be read or written
        Parse,       ///< the input is not well-formed (JSON syntax, encoding)
        Validation,  ///< well-formed input that breaks a rule; details name each problem
        NotFound,    ///< the named thing does not exist
        Conflict,    ///< the operation clashes with existing state
        Locked,      ///< another process holds the resource (engine lock, busy database)
        Database,    ///< the store failed (I/O, corruption, constraint)
        Unsupported, ///< e.g. a store written by a newer Vivarium
        Internal,    ///< a bug: should never reach a user
    };

    Code code = Code::Internal;
    QString message;
    /** One line per individual problem (validation errors), each self-contained. */
    QStringList details;

    static Error make(Code c, QString msg, QStringList details = {})
    {
        return Error{c, std::move(msg), std::move(details)};
    }
    /** The message followed by every detail, one per line. */
    QString toString() const
    {
        if (details.isEmpty())
            return message;
        return message + QLatin1Char('\n') + details.join(QLatin1Char('\n'));
    }
};

template <typename T> using Result = std::expected<T, Error>;
using Status = std::expected<void, Error>;

inline std::unexpected<Error> fail(Error::Code c, QString msg, QStringList details = {})
{
    return std::unexpected(Error::make(c, std::move(msg), std::move(details)));
}

} // namespace vivarium
