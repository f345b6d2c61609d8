// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/Router.h"

#include "ServerLogging.h"

#include <algorithm>

namespace vivarium::server {

QStringList Scopes::all()
{
    return {AgentsRead, AgentsWrite, RunsRead, RunsWrite, WebhooksWrite, Admin};
}

namespace {

/** Match the path's segments against a template's; fills `params`. */
bool matchPath(const QStringList& pattern, const QList<QStringView>& segs,
               QHash<QString, QString>* params)
{
    if (pattern.size() != segs.size())
        return false;
    for (qsizetype i = 0; i < pattern.size(); ++i) {
        const QString& ps = pattern.at(i);
        if (ps.startsWith(QLatin1Char('{')) && ps.endsWith(QLatin1Char('}'))) {
            if (segs.at(i).isEmpty())
                return false;
            params->insert(ps.mid(1, ps.size() - 2), segs.at(i).toString());
        } else if (ps != segs.at(i)) {
            return false;
        }
    }
    return true;
}

} // namespace

void Router::add(Route route)
{
    for (const Route& r : std::as_const(m_routes)) {
        if (r.method == route.method && r.path == route.path) {
            qCCritical(lcServerApi).noquote()
                << "duplicate route" << route.method << route.path << "ignored";
            Q_ASSERT(false);
            return;
        }
    }
    m_segments.append(route.path.split(QLatin1Char('/')));
    m_routes.append(std::move(route));
}

Router::Match Router::match(const QByteArray& method, const QString& path) const
{
    Match m;
    // A literal segment beats a parameter at the same place (/v1/runs/x vs /v1/runs/{id}):
    // take the match with the most literal segments.
    int bestLiterals = -1;
    const QList<QStringView> segs = QStringView(path).split(QLatin1Char('/'));
    for (qsizetype i = 0; i < m_routes.size(); ++i) {
        const Route& r = m_routes.at(i);
        QHash<QString, QString> params;
        if (!matchPath(m_segments.at(i), segs, &params))
            continue;
        if (r.method != method) {
            if (!m.allowedMethods.contains(r.method))
                m.allowedMethods << r.method;
            continue;
        }
        const int literals = int(r.path.count(QLatin1Char('/')) - r.path.count(QLatin1Char('{')));
        if (literals > bestLiterals) {
            bestLiterals = literals;
            m.route = &r;
            m.params = params;
        }
    }
    std::sort(m.allowedMethods.begin(), m.allowedMethods.end());
    return m;
}

} // namespace vivarium::server
