// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "LocalApi.h"

#include "vivarium/core/Logging.h"
#include "vivarium/core/Settings.h"
#include "vivarium/engine/Engine.h"
#include "vivarium/server/ApiServer.h"

#include <QCoreApplication>
#include <QObject>

namespace vivarium {

LocalApi::LocalApi(Engine& engine)
    : m_engine(engine)
{}

LocalApi::~LocalApi()
{
    stop();
}

void LocalApi::stop()
{
    if (m_server)
        m_server->stop();
    m_server.reset();
    m_listening.clear();
}

void LocalApi::apply()
{
    if (!m_engine.isRunning())
        return;
    const Settings settings(*m_engine.store());
    const bool wanted = settings.apiEnabled();
    const QString listen = settings.apiListen();
    if (!wanted) {
        stop();
        m_error.clear();
        return;
    }
    if (m_server && listen == m_listening)
        return;
    stop();
    m_error.clear();
    // api.listen was checked when it was stored (loopback ADDRESS:PORT).
    const qsizetype colon = listen.lastIndexOf(QLatin1Char(':'));
    QString host = listen.left(colon);
    if (host.startsWith(QLatin1Char('[')))
        host = host.mid(1, host.size() - 2);
    server::ApiServerOptions options;
    options.address = QHostAddress(host);
    options.port = quint16(listen.mid(colon + 1).toUInt());
    server::ApiContext context;
    context.store = m_engine.store();
    context.supervisor = m_engine.supervisor();
    context.scheduler = m_engine.scheduler();
    context.secrets = m_engine.secrets();
    context.dataDir = m_engine.paths().dataDir();
    context.version = QCoreApplication::applicationVersion();
    auto api = std::make_unique<server::ApiServer>(context, options);
    if (auto ok = api->start(); !ok) {
        m_error = ok.error().message;
        qCWarning(lcEngine).noquote() << "HTTP API:" << m_error;
        return;
    }
    m_listening = listen;
    m_server = std::move(api);
    qCInfo(lcEngine).noquote() << "HTTP API on" << m_server->baseUrl();
}

QString LocalApi::status() const
{
    if (m_server)
        return QObject::tr("On: serving %1 (requests need an API key: vivarium api-key create "
                           "NAME).")
            .arg(m_server->baseUrl());
    if (!m_error.isEmpty())
        return QObject::tr("Not running: %1").arg(m_error);
    return QObject::tr("Off.");
}

} // namespace vivarium
