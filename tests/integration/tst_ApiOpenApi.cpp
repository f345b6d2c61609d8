// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// /openapi.json is kept honest: every route the router serves is documented with its method,
// path and scope, nothing documented is missing from the router, and every problem type the
// server can send is listed.
#include "vivarium/core/Store.h"
#include "vivarium/server/ApiProblem.h"
#include "vivarium/server/ApiServer.h"

#include <QJsonArray>
#include <QJsonObject>
#include <QRegularExpression>
#include <QSet>
#include <QTemporaryDir>
#include <QTest>

using namespace vivarium;
using namespace vivarium::server;

class TestApiOpenApi : public QObject
{
    Q_OBJECT
private slots:
    void documentMatchesRouteTable()
    {
        QTemporaryDir dir;
        auto store = Store::open(dir.filePath(QStringLiteral("v.db")));
        QVERIFY(store);
        ApiContext context;
        context.store = store->get();
        ApiServer server(context, ApiServerOptions{});
        const QJsonObject doc = ApiServer::openApiDocument();
        QCOMPARE(doc.value(QStringLiteral("openapi")).toString(), QStringLiteral("3.1.0"));
        const QJsonObject paths = doc.value(QStringLiteral("paths")).toObject();

        QSet<QString> routed;
        for (const Route& r : server.router().routes()) {
            const QString method = QString::fromLatin1(r.method).toLower();
            const QString key = method + QLatin1Char(' ') + r.path;
            routed.insert(key);
            const QJsonObject op = paths.value(r.path).toObject().value(method).toObject();
            QVERIFY2(!op.isEmpty(), qPrintable(QStringLiteral("undocumented route: ") + key));
            const QString scope = r.isPublic          ? QStringLiteral("none")
                                  : r.scope.isEmpty() ? QStringLiteral("any")
                                                      : r.scope;
            QCOMPARE(op.value(QStringLiteral("x-vivarium-scope")).toString(), scope);
            QCOMPARE(op.value(QStringLiteral("security")).toArray().isEmpty(), r.isPublic);
            QVERIFY2(!op.value(QStringLiteral("operationId")).toString().isEmpty(),
                     qPrintable(key));
            QVERIFY2(op.value(QStringLiteral("responses")).toObject().size() >= 1, qPrintable(key));
            // Every {param} of the path is a documented path parameter.
            static const QRegularExpression param(QStringLiteral("\\{(\\w+)\\}"));
            for (auto it = param.globalMatch(r.path); it.hasNext();) {
                const QString name = it.next().captured(1);
                bool found = false;
                for (const QJsonValue& p : op.value(QStringLiteral("parameters")).toArray())
                    found =
                        found || (p.toObject().value(QStringLiteral("in")).toString() ==
                                      QLatin1String("path") &&
                                  p.toObject().value(QStringLiteral("name")).toString() == name);
                QVERIFY2(found,
                         qPrintable(
                             QStringLiteral("%1: path parameter %2 undocumented").arg(key, name)));
            }
        }
        for (auto p = paths.constBegin(); p != paths.constEnd(); ++p) {
            const QJsonObject ops = p.value().toObject();
            for (auto m = ops.constBegin(); m != ops.constEnd(); ++m) {
                const QString key = m.key() + QLatin1Char(' ') + p.key();
                QVERIFY2(routed.contains(key),
                         qPrintable(QStringLiteral("documented but not routed: ") + key));
            }
        }
        QVERIFY(routed.size() >= 25);

        QStringList types;
        for (const QJsonValue& t : doc.value(QStringLiteral("x-vivarium-problem-types")).toArray())
            types << t.toString();
        for (ApiProblem::Kind k : ApiProblem::allKinds()) {
            const ApiProblem p(k, {});
            QVERIFY2(types.contains(p.typeUri()), qPrintable(p.typeUri()));
            QVERIFY(p.status() >= 400 && p.status() < 600);
            QVERIFY(!p.title().isEmpty());
        }
        QCOMPARE(types.size(), ApiProblem::allKinds().size());
    }

    void errorCodesMapInOnePlace()
    {
        const QList<QPair<Error::Code, int>> expected{
            {Error::Code::Parse, 400},    {Error::Code::Validation, 422},
            {Error::Code::NotFound, 404}, {Error::Code::Conflict, 409},
            {Error::Code::Locked, 503},   {Error::Code::Unsupported, 501},
            {Error::Code::Io, 500},       {Error::Code::Database, 500},
            {Error::Code::Internal, 500}};
        for (const auto& [code, status] : expected) {
            const ApiProblem p = ApiProblem::fromError(
                Error::make(code, QStringLiteral("m"), {QStringLiteral("d")}));
            QCOMPARE(p.status(), status);
            QCOMPARE(p.toResponse().status, status);
            QCOMPARE(p.toJson().value(QStringLiteral("errors")).toArray().size(), 1);
        }
    }
};

QTEST_GUILESS_MAIN(TestApiOpenApi)
#include "tst_ApiOpenApi.moc"
