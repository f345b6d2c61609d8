// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QLoggingCategory>

// Model clients. Never log keys, request headers or request bodies: only hosts, paths,
// statuses, sizes and timings.
Q_DECLARE_LOGGING_CATEGORY(lcSandboxLlm)
