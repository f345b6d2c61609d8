// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#pragma once

#include <QString>

#include <memory>

namespace vivarium {

class Engine;
namespace server {
class ApiServer;
}

/**
 * The localhost HTTP API inside the desktop app, as `vivarium serve` runs it when the setting
 * api.enabled is on: the same server and controllers over the engine's store. apply() follows
 * the settings (api.enabled, api.listen) whenever they change.
 */
class LocalApi
{
public:
    explicit LocalApi(Engine& engine);
    ~LocalApi();

    /** Start, stop or move the server to match the settings now. */
    void apply();
    void stop();
    /** "serving http://127.0.0.1:8765", "off", or why it could not start. */
    QString status() const;

private:
    Engine& m_engine;
    std::unique_ptr<server::ApiServer> m_server;
    QString m_listening; ///< the api.listen value the server runs with
    QString m_error;
};

} // namespace vivarium
