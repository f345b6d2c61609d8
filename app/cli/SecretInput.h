// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include "vivarium/core/Error.h"

#include <QByteArray>
#include <QString>

namespace vivarium::cli {

/**
 * Reading secret values (API keys, passphrases, tokens) from the user: every command that takes
 * one uses these, so none echoes a secret or leaves it in shell history or argv.
 */

/** True when standard input is a terminal (then prompt; else read a pipe). */
bool stdinIsTerminal();

/** True when there is a controlling terminal to prompt on (even with stdin piped). */
bool haveTerminal();

/**
 * The whole of stdin (at most `maxBytes`), without the trailing newline a shell or `echo`
 * adds. Empty when nothing came.
 */
QByteArray readStdinSecret(qsizetype maxBytes = 64 * 1024);

/**
 * Ask on the controlling terminal with echo off, once or twice when `confirm` is set (the two
 * must match). Validation error when there is no terminal, input is empty or the two entries
 * differ. Echo is restored even when interrupted by Ctrl-C.
 */
Result<QByteArray> promptSecret(const QString& label, bool confirm = false);

/**
 * A single-line secret: from a pipe when stdin is not a terminal, else a no-echo prompt.
 * Validation error when empty or multi-line.
 */
Result<QByteArray> readSecretLine(const QString& label, bool confirm = false);

} // namespace vivarium::cli
