// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/server/ApiReply.h"

#include "http/HttpExchange.h"

#include <QJsonArray>
#include <QJsonDocument>
#include <QJsonObject>

namespace vivarium::server {

namespace {

QByteArray compact(const QJsonValue& v)
{
    if (v.isArray())
        return QJsonDocument(v.toArray()).toJson(QJsonDocument::Compact);
    return QJsonDocument(v.toObject()).toJson(QJsonDocument::Compact);
}

} // namespace

ApiReply::ApiReply(std::shared_ptr<HttpExchange> exchange)
    : m_exchange(std::move(exchange))
{}

void ApiReply::json(int status, const QJsonValue& body, const HttpHeaders& extra)
{
    HttpResponse r;
    r.status = status;
    r.headers = extra;
    r.setHeader("Content-Type", "application/json");
    r.body = compact(body);
    send(std::move(r));
}

void ApiReply::problem(const ApiProblem& problem)
{
    send(problem.toResponse(m_exchange->request().path));
}

void ApiReply::error(const Error& error)
{
    problem(ApiProblem::fromError(error));
}

void ApiReply::send(HttpResponse response)
{
    // Every answer of the API: no caching of per-key data, no MIME sniffing.
    response.setHeader("Cache-Control", "no-store");
    response.setHeader("X-Content-Type-Options", "nosniff");
    m_exchange->send(std::move(response));
}

void ApiReply::defer()
{
    m_exchange->defer();
}

bool ApiReply::isDeferred() const
{
    return m_exchange->isDeferred();
}

bool ApiReply::isDone() const
{
    return m_exchange->isDone();
}

bool ApiReply::isOpen() const
{
    return m_exchange->isOpen();
}

void ApiReply::startStream(int status, const HttpHeaders& headers)
{
    HttpHeaders all = headers;
    all.append(qMakePair(QByteArray("Cache-Control"), QByteArray("no-store")));
    all.append(qMakePair(QByteArray("X-Content-Type-Options"), QByteArray("nosniff")));
    m_exchange->startStream(status, all);
}

bool ApiReply::write(const QByteArray& data)
{
    return m_exchange->write(data);
}

void ApiReply::end()
{
    m_exchange->end();
}

void ApiReply::onFinished(std::function<void()> callback)
{
    m_exchange->onFinished(std::move(callback));
}

} // namespace vivarium::server
