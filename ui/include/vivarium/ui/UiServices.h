// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>

#include <functional>

namespace vivarium {

class RunSupervisor;
class SecretStore;
class Store;

/**
 * The engine services the desktop app drives (DESIGN section 2: ui uses core, scheduler and
 * sandbox, never server internals). The composition root (app/gui) fills it from its Engine;
 * every pointer must outlive the windows that get it. Everything lives on the GUI thread,
 * which is the engine's.
 */
struct UiServices
{
    Store* store = nullptr;
    /** Null: runs cannot be started or cancelled here (a read-only window, some tests). */
    RunSupervisor* supervisor = nullptr;
    /** Null: model endpoint keys cannot be stored. */
    SecretStore* secrets = nullptr;
    QString dataDir;
    /** What the engine chose for secrets ("keychain" | "vault") and why, for Settings. */
    QString secretBackend;
    QString secretBackendReason;
    /**
     * A sentence on the local HTTP API as it runs now ("serving http://127.0.0.1:8765",
     * "off"); empty function: the window says the setting applies when the engine starts.
     */
    std::function<QString()> apiStatus;
};

} // namespace vivarium
