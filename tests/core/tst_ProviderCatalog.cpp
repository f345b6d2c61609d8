// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
// The provider catalog (docs/providers.md): every shipped manifest validates and every one of
// its operations renders a well-formed request; bad manifests are refused with the JSON path of
// each problem; arguments can never change a request's path; user manifests replace built-ins
// and broken ones are reported, not loaded.
#include "vivarium/core/ProviderManifest.h"

#include <QDir>
#include <QFile>
#include <QJsonArray>
#include <QJsonDocument>
#include <QTemporaryDir>
#include <QTest>
#include <QUrl>
#include <QUrlQuery>

using namespace vivarium;

namespace {

const QStringList ShippedIds{QStringLiteral("github"),       QStringLiteral("gmail"),
                             QStringLiteral("google_drive"), QStringLiteral("http_api_key"),
                             QStringLiteral("jira"),         QStringLiteral("notion"),
                             QStringLiteral("slack"),        QStringLiteral("stripe")};

QByteArray json(const QJsonObject& o)
{
    return QJsonDocument(o).toJson(QJsonDocument::Compact);
}

/** What a connection of each shipped provider would hold in its meta. */
QJsonObject sampleMeta()
{
    return {{QStringLiteral("cloud_id"), QStringLiteral("0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0")},
            {QStringLiteral("base_url"), QStringLiteral("https://api.example.com/v2")}};
}

/** A value that satisfies `schema` (the subset the manifests use). */
QJsonValue sample(const QJsonObject& schema, const QString& name)
{
    if (schema.contains(QStringLiteral("const")))
        return schema.value(QStringLiteral("const"));
    if (schema.contains(QStringLiteral("enum")))
        return schema.value(QStringLiteral("enum")).toArray().first();
    const QString type = schema.value(QStringLiteral("type")).toString();
    if (type == QLatin1String("integer") || type == QLatin1String("number"))
        return qMax(1.0, schema.value(QStringLiteral("minimum")).toDouble(1));
    if (type == QLatin1String("boolean"))
        return true;
    if (type == QLatin1String("array")) {
        const QJsonObject items = schema.value(QStringLiteral("items")).toObject();
        return QJsonArray{sample(items, name + QStringLiteral("_item"))};
    }
    if (type == QLatin1String("object")) {
        QJsonObject out;
        const QJsonObject props = schema.value(QStringLiteral("properties")).toObject();
        for (const QJsonValue& r : schema.value(QStringLiteral("required")).toArray())
            out.insert(r.toString(), sample(props.value(r.toString()).toObject(), r.toString()));
        if (out.isEmpty() && !props.isEmpty())
            out.insert(props.begin().key(), sample(props.begin()->toObject(), props.begin().key()));
        if (out.isEmpty())
            out.insert(QStringLiteral("k"), QStringLiteral("v"));
        return out;
    }
    return QStringLiteral("sample %1/&=?#").arg(name);
}

/** Arguments giving every parameter a value. */
QJsonObject sampleArgs(const ProviderOperation& op)
{
    QJsonObject args;
    const QJsonObject props = op.parameters.value(QStringLiteral("properties")).toObject();
    for (auto it = props.begin(); it != props.end(); ++it)
        args.insert(it.key(), sample(it->toObject(), it.key()));
    return args;
}

/** A small valid manifest the bad-manifest table mutates. */
QJsonObject validManifest()
{
    // A file, not a raw string literal: moc reads "//" inside a raw string as a comment.
    QFile f(qEnvironmentVariable("VIVARIUM_SOURCE_DIR") +
            QStringLiteral("/tests/core/fixtures/provider-acme.json"));
    if (!f.open(QIODevice::ReadOnly))
        qFatal("tests/core/fixtures/provider-acme.json is missing");
    return QJsonDocument::fromJson(f.readAll()).object();
}

/** `o` with the value at a dotted path (`operations.1.path`) replaced, or removed if undefined. */
QJsonValue setAt(QJsonValue node, QStringList path, const QJsonValue& value)
{
    const QString key = path.takeFirst();
    bool isIndex = false;
    const int index = key.toInt(&isIndex);
    if (isIndex) {
        QJsonArray a = node.toArray();
        if (path.isEmpty())
            value.isUndefined() ? a.removeAt(index) : a.replace(index, value);
        else
            a.replace(index, setAt(a.at(index), path, value));
        return a;
    }
    QJsonObject o = node.toObject();
    if (path.isEmpty()) {
        if (value.isUndefined())
            o.remove(key);
        else
            o.insert(key, value);
    } else {
        o.insert(key, setAt(o.value(key), path, value));
    }
    return o;
}

QJsonValue fromText(const char* text)
{
    if (!text)
        return QJsonValue(QJsonValue::Undefined);
    const QJsonDocument d = QJsonDocument::fromJson(QByteArray("[") + text + "]");
    return d.array().first();
}

QString errorText(const Error& e)
{
    return e.toString();
}

} // namespace

class TestProviderCatalog : public QObject
{
    Q_OBJECT

private slots:
    void builtInsLoad()
    {
        const ProviderCatalog catalog = ProviderCatalog::load({});
        QVERIFY2(catalog.problems().isEmpty(), qPrintable(catalog.problems().join('\n')));
        QStringList ids;
        for (const ProviderManifest& m : catalog.manifests()) {
            ids.append(m.id);
            QVERIFY(m.builtIn);
            QCOMPARE(m.sourcePath, QStringLiteral(":/vivarium/providers/%1.json").arg(m.id));
        }
        QCOMPARE(ids, ShippedIds);
        auto gmail = catalog.find(QStringLiteral("gmail"));
        QVERIFY(gmail);
        QCOMPARE(gmail->auth.kind, ProviderAuth::Kind::OAuth2);
        QCOMPARE(gmail->auth.oauth2.deviceAuthorizationEndpoint,
                 QStringLiteral("https://oauth2.googleapis.com/device/code"));
        QCOMPARE(gmail->auth.oauth2.revocationEndpoint,
                 QStringLiteral("https://oauth2.googleapis.com/revoke"));
        QCOMPARE(gmail->auth.oauth2.extraAuthorizationParams.value(QStringLiteral("access_type")),
                 QStringLiteral("offline"));
        QCOMPARE(gmail->auth.oauth2.extraAuthorizationParams.value(QStringLiteral("prompt")),
                 QStringLiteral("consent"));
        QCOMPARE(gmail->credentialHost, QStringLiteral("gmail.googleapis.com"));
        auto missing = catalog.find(QStringLiteral("nope"));
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, Error::Code::NotFound);
        QVERIFY(missing.error().message.contains(QStringLiteral("gmail")));
    }

    /** The source files are what was compiled in, and each validates on its own. */
    void shippedFilesValidate_data()
    {
        QTest::addColumn<QString>("path");
        const QDir dir(qEnvironmentVariable("VIVARIUM_SOURCE_DIR") +
                       QStringLiteral("/resources/providers"));
        const QStringList files = dir.entryList({QStringLiteral("*.json")}, QDir::Files);
        QCOMPARE(files.size(), ShippedIds.size());
        for (const QString& f : files)
            QTest::newRow(qPrintable(f)) << dir.filePath(f);
    }
    void shippedFilesValidate()
    {
        QFETCH(QString, path);
        QFile f(path);
        QVERIFY(f.open(QIODevice::ReadOnly));
        auto m = ProviderCatalog::parse(f.readAll(), path);
        QVERIFY2(m, m ? "" : qPrintable(errorText(m.error())));
        QCOMPARE(m->id, QFileInfo(path).completeBaseName());
        QVERIFY(!m->description.isEmpty());
        if (m->id != QLatin1String("http_api_key")) {
            QVERIFY2(!m->testOperation.isEmpty(), "every API with an identity call tests with it");
            QVERIFY(!m->authorizedUris.isEmpty());
            QVERIFY(!m->operations.isEmpty());
        }
        for (const ProviderOperation& op : m->operations) {
            QVERIFY2(ProviderCatalog::toolName(m->id, op.name).size() <= 64, qPrintable(op.name));
            QVERIFY(!op.description.isEmpty());
        }
    }

    /** Every operation of every manifest, with every parameter given, renders a sane request. */
    void everyOperationRenders_data()
    {
        QTest::addColumn<QString>("provider");
        QTest::addColumn<QString>("operation");
        for (const ProviderManifest& m : ProviderCatalog::load({}).manifests()) {
            for (const ProviderOperation& op : m.operations)
                QTest::newRow(qPrintable(m.id + QLatin1Char('.') + op.name)) << m.id << op.name;
        }
    }
    void everyOperationRenders()
    {
        QFETCH(QString, provider);
        QFETCH(QString, operation);
        const auto m = ProviderCatalog::load({}).find(provider);
        QVERIFY(m);
        const ProviderOperation* op = m->operation(operation);
        QVERIFY(op);
        const QJsonObject args = sampleArgs(*op);
        auto r = ProviderCatalog::render(*m, operation, args, sampleMeta());
        QVERIFY2(r, r ? "" : qPrintable(errorText(r.error())));
        QCOMPARE(r->method, op->method);

        const QUrl url(r->url, QUrl::StrictMode);
        QVERIFY2(url.isValid(), qPrintable(r->url));
        QCOMPARE(url.scheme(), QStringLiteral("https"));
        auto base = ProviderCatalog::resolveBaseUrl(*m, sampleMeta());
        QVERIFY(base);
        QVERIFY2(r->url.startsWith(*base + QLatin1Char('/')), qPrintable(r->url));
        QVERIFY2(!r->url.contains(QLatin1Char('{')) && !r->url.contains(QLatin1Char('}')),
                 qPrintable(r->url));
        QVERIFY(!url.hasFragment());
        const QString encodedPath = url.path(QUrl::FullyEncoded);
        QVERIFY(!encodedPath.contains(QStringLiteral("//")));

        const QJsonObject props = op->parameters.value(QStringLiteral("properties")).toObject();
        const QUrlQuery query(url);
        for (auto it = props.begin(); it != props.end(); ++it) {
            const QJsonObject prop = it->toObject();
            const QString in = prop.value(QStringLiteral("x-in")).toString();
            const QString wire = prop.value(QStringLiteral("x-name")).toString(it.key());
            if (op->path.contains(QLatin1Char('{') + it.key() + QLatin1Char('}'))) {
                // Exactly one segment, holding the value.
                const QString value = args.value(it.key()).isString()
                                          ? args.value(it.key()).toString()
                                          : QString::number(args.value(it.key()).toDouble());
                QVERIFY2(encodedPath.contains(QLatin1Char('/') +
                                              QString::fromLatin1(QUrl::toPercentEncoding(value))),
                         qPrintable(encodedPath));
            } else if (in == QLatin1String("header")) {
                bool found = false;
                for (const auto& [name, value] : r->headers)
                    found = found || QString::fromLatin1(name) == wire;
                QVERIFY2(found, qPrintable(wire));
            } else if (in == QLatin1String("query") ||
                       (in.isEmpty() && (op->method == QLatin1String("GET") ||
                                         op->method == QLatin1String("DELETE")))) {
                bool found = false;
                for (const auto& [k, v] : query.queryItems(QUrl::FullyDecoded))
                    found = found || k == wire || k.startsWith(wire + QLatin1Char('['));
                QVERIFY2(found, qPrintable(QStringLiteral("%1 not in %2").arg(wire, r->url)));
            }
        }
        for (const auto& [k, v] : op->query)
            QCOMPARE(query.queryItemValue(k, QUrl::FullyDecoded), v);

        QByteArray contentType;
        for (const auto& [name, value] : r->headers) {
            QVERIFY(!name.isEmpty());
            QVERIFY(!value.contains('\r') && !value.contains('\n'));
            if (name.toLower() == "content-type")
                contentType = value;
        }
        for (const auto& [name, value] : m->headers) {
            bool found = false;
            for (const auto& [n, v] : r->headers)
                found = found || (QString::fromLatin1(n) == name && QString::fromUtf8(v) == value);
            QVERIFY2(found, qPrintable(name));
        }
        if (op->method == QLatin1String("GET") || op->method == QLatin1String("DELETE")) {
            QVERIFY(r->body.isEmpty());
        } else if (op->bodyFormat == QLatin1String("form")) {
            QCOMPARE(contentType, QByteArray("application/x-www-form-urlencoded"));
            QVERIFY(!r->body.isEmpty());
            QVERIFY(!r->body.contains(' '));
        } else {
            QVERIFY2(contentType.startsWith("application/json"), contentType.constData());
            QJsonParseError e{};
            const QJsonDocument body = QJsonDocument::fromJson(r->body, &e);
            QVERIFY2(body.isObject(), r->body.constData());
            for (auto it = op->body.begin(); it != op->body.end(); ++it)
                QCOMPARE(body.object().value(it.key()), *it);
        }

        // The test operation renders with no arguments at all.
        if (m->testOperation == operation)
            QVERIFY(ProviderCatalog::render(*m, operation, {}, sampleMeta()));
    }

    void modelSchemaDropsExtensions()
    {
        const auto stripe = ProviderCatalog::load({}).find(QStringLiteral("stripe"));
        QVERIFY(stripe);
        const ProviderOperation* refund = stripe->operation(QStringLiteral("create_refund"));
        QVERIFY(refund);
        const QJsonObject schema = ProviderCatalog::modelSchema(*refund);
        const QByteArray text = json(schema);
        QVERIFY2(!text.contains("\"x-"), text.constData());
        QVERIFY(schema.value(QStringLiteral("properties"))
                    .toObject()
                    .contains(QStringLiteral("idempotency_key")));
        QCOMPARE(schema.value(QStringLiteral("additionalProperties")), QJsonValue(false));
        QVERIFY(json(refund->parameters).contains("\"x-body\""));
    }

    void formBodyNestsLikeStripe()
    {
        const auto stripe = ProviderCatalog::load({}).find(QStringLiteral("stripe"));
        QVERIFY(stripe);
        auto r = ProviderCatalog::render(
            *stripe, QStringLiteral("create_refund"),
            {{QStringLiteral("charge"), QStringLiteral("ch_1")},
             {QStringLiteral("amount"), 250},
             {QStringLiteral("metadata"),
              QJsonObject{{QStringLiteral("order"), QStringLiteral("a&b c")}}},
             {QStringLiteral("idempotency_key"), QStringLiteral("k-1")}});
        QVERIFY(r);
        QCOMPARE(r->url, QStringLiteral("https://api.stripe.com/v1/refunds"));
        QCOMPARE(r->body, QByteArray("amount=250&charge=ch_1&metadata%5Border%5D=a%26b%20c"));
        bool idem = false;
        for (const auto& [n, v] : r->headers)
            idem = idem || (n == "Idempotency-Key" && v == "k-1");
        QVERIFY(idem);

        auto list = ProviderCatalog::render(
            *stripe, QStringLiteral("list_charges"),
            {{QStringLiteral("created"), QJsonObject{{QStringLiteral("gte"), 1712000000}}},
             {QStringLiteral("limit"), 5}});
        QVERIFY(list);
        QCOMPARE(list->url,
                 QStringLiteral(
                     "https://api.stripe.com/v1/charges?created%5Bgte%5D=1712000000&limit=5"));
    }

    void queryStyles()
    {
        const ProviderCatalog catalog = ProviderCatalog::load({});
        auto jira = catalog.find(QStringLiteral("jira"));
        QVERIFY(jira);
        auto r = ProviderCatalog::render(
            *jira, QStringLiteral("search_issues"),
            {{QStringLiteral("jql"), QStringLiteral("project = OPS & x")},
             {QStringLiteral("fields"),
              QJsonArray{QStringLiteral("summary"), QStringLiteral("status")}}},
            sampleMeta());
        QVERIFY(r);
        QCOMPARE(r->url,
                 QStringLiteral("https://api.atlassian.com/ex/jira/"
                                "0f1e2d3c-4b5a-6978-8796-a5b4c3d2e1f0/rest/api/3/search/"
                                "jql?fields=summary%2Cstatus&jql=project%20%3D%20OPS%20%26%20x"));
        auto gmail = catalog.find(QStringLiteral("gmail"));
        QVERIFY(gmail);
        auto g = ProviderCatalog::render(
            *gmail, QStringLiteral("search_messages"),
            {{QStringLiteral("labelIds"),
              QJsonArray{QStringLiteral("INBOX"), QStringLiteral("UNREAD")}},
             {QStringLiteral("includeSpamTrash"), false}});
        QVERIFY(g);
        QCOMPARE(g->url, QStringLiteral("https://gmail.googleapis.com/gmail/v1/users/me/messages?"
                                        "includeSpamTrash=false&labelIds=INBOX&labelIds=UNREAD"));
        auto drive = catalog.find(QStringLiteral("google_drive"));
        QVERIFY(drive);
        auto d = ProviderCatalog::render(*drive, QStringLiteral("download_file"),
                                         {{QStringLiteral("fileId"), QStringLiteral("abc")}});
        QVERIFY(d);
        QCOMPARE(d->url, QStringLiteral("https://www.googleapis.com/drive/v3/files/abc?alt=media"));
        auto folder = ProviderCatalog::render(*drive, QStringLiteral("create_folder"),
                                              {{QStringLiteral("name"), QStringLiteral("Reports")},
                                               {QStringLiteral("supportsAllDrives"), true}});
        QVERIFY(folder);
        QCOMPARE(
            folder->url,
            QStringLiteral("https://www.googleapis.com/drive/v3/files?supportsAllDrives=true"));
        QCOMPARE(QJsonDocument::fromJson(folder->body).object(),
                 (QJsonObject{{QStringLiteral("name"), QStringLiteral("Reports")},
                              {QStringLiteral("mimeType"),
                               QStringLiteral("application/vnd.google-apps.folder")}}));
    }

    void renderRefusals()
    {
        const auto m = ProviderCatalog::parse(json(validManifest()), QStringLiteral("acme.json"));
        QVERIFY(m);
        auto missing = ProviderCatalog::render(*m, QStringLiteral("get_item"), {});
        QVERIFY(!missing);
        QCOMPARE(missing.error().code, Error::Code::Validation);
        QCOMPARE(missing.error().message, QStringLiteral("missing path parameter \"id\""));
        auto object = ProviderCatalog::render(*m, QStringLiteral("get_item"),
                                              {{QStringLiteral("id"), QJsonObject()}});
        QVERIFY(!object);
        QVERIFY(object.error().message.contains(QStringLiteral("must be a string or a number")));
        auto unknown = ProviderCatalog::render(
            *m, QStringLiteral("get_item"),
            {{QStringLiteral("id"), QStringLiteral("1")}, {QStringLiteral("extra"), 1}});
        QVERIFY(!unknown);
        QVERIFY(unknown.error().message.contains(QStringLiteral("no parameter \"extra\"")));
        auto noOp = ProviderCatalog::render(*m, QStringLiteral("delete_all"), {});
        QVERIFY(!noOp);
        QCOMPARE(noOp.error().code, Error::Code::NotFound);
        QVERIFY(noOp.error().message.contains(QStringLiteral("whoami, get_item, create_item")));
        auto post = ProviderCatalog::render(*m, QStringLiteral("create_item"),
                                            {{QStringLiteral("title"), QStringLiteral("x")}});
        QVERIFY(post);
        QCOMPARE(post->body, QByteArray("{\"title\":\"x\"}"));
    }

    /** Arguments in path parameters stay one segment: they can never walk the path. */
    void pathInjection_data()
    {
        QTest::addColumn<QString>("value");
        QTest::addColumn<QString>("segment"); ///< empty: refused
        QTest::newRow("plain") << "abc"
                               << "abc";
        QTest::newRow("dotdot-slash") << "../admin"
                                      << "..%2Fadmin";
        QTest::newRow("slash") << "a/b"
                               << "a%2Fb";
        QTest::newRow("encoded slash") << "a%2Fb"
                                       << "a%252Fb";
        QTest::newRow("encoded dotdot") << "%2e%2e"
                                        << "%252e%252e";
        QTest::newRow("query") << "1?admin=true"
                               << "1%3Fadmin%3Dtrue";
        QTest::newRow("fragment") << "1#x"
                                  << "1%23x";
        QTest::newRow("backslash") << "..\\..\\etc"
                                   << "..%5C..%5Cetc";
        QTest::newRow("space") << "a b"
                               << "a%20b";
        QTest::newRow("crlf") << "a\r\nHost: evil"
                              << "a%0D%0AHost%3A%20evil";
        QTest::newRow("unicode") << QStringLiteral("caf\u00e9") << "caf%C3%A9";
        QTest::newRow("dotdot") << ".."
                                << "";
        QTest::newRow("dot") << "."
                             << "";
        QTest::newRow("empty") << ""
                               << "";
    }
    void pathInjection()
    {
        QFETCH(QString, value);
        QFETCH(QString, segment);
        const auto m = ProviderCatalog::parse(json(validManifest()), QStringLiteral("acme.json"));
        QVERIFY(m);
        auto r = ProviderCatalog::render(*m, QStringLiteral("get_item"),
                                         {{QStringLiteral("id"), value}});
        if (segment.isEmpty()) {
            QVERIFY(!r);
            QCOMPARE(r.error().code, Error::Code::Validation);
            QVERIFY(r.error().message.contains(QStringLiteral("path parameter \"id\"")));
            return;
        }
        QVERIFY(r);
        QCOMPARE(r->url, QStringLiteral("https://api.acme.example/v1/items/") + segment);
        // To a URL parser it is still /v1/items/<one segment>, no query, no fragment.
        const QUrl url(r->url, QUrl::StrictMode);
        QVERIFY(url.isValid());
        QCOMPARE(url.path(QUrl::FullyEncoded).split(QLatin1Char('/')).size(), 4);
        QVERIFY(!url.hasQuery());
        QVERIFY(!url.hasFragment());
    }

    void queryValuesAreEncoded()
    {
        const auto m = ProviderCatalog::parse(json(validManifest()), QStringLiteral("acme.json"));
        QVERIFY(m);
        auto r = ProviderCatalog::render(
            *m, QStringLiteral("get_item"),
            {{QStringLiteral("id"), QStringLiteral("1")}, {QStringLiteral("verbose"), true}});
        QVERIFY(r);
        QCOMPARE(r->url, QStringLiteral("https://api.acme.example/v1/items/1?verbose=true"));
        const auto gmail = ProviderCatalog::load({}).find(QStringLiteral("gmail"));
        QVERIFY(gmail);
        const QString q = QStringLiteral("from:a@b.c & subject:\"x=y\" #1 +z");
        auto s = ProviderCatalog::render(*gmail, QStringLiteral("search_messages"),
                                         {{QStringLiteral("q"), q}});
        QVERIFY(s);
        const QUrlQuery query{QUrl(s->url)};
        QCOMPARE(query.queryItems().size(), 1);
        QCOMPARE(query.queryItemValue(QStringLiteral("q"), QUrl::FullyDecoded), q);
        QVERIFY(!s->url.contains(QLatin1Char(' ')) && !s->url.contains(QLatin1Char('#')));
    }

    void connectionFields()
    {
        const ProviderCatalog catalog = ProviderCatalog::load({});
        auto jira = catalog.find(QStringLiteral("jira"));
        QVERIFY(jira);
        QCOMPARE(jira->connectionFields.size(), 1);
        QCOMPARE(jira->credentialHost, QStringLiteral("api.atlassian.com"));
        auto none = ProviderCatalog::render(*jira, QStringLiteral("get_myself"), {});
        QVERIFY(!none);
        QVERIFY2(none.error().message.contains(QStringLiteral("no \"cloud_id\"")) &&
                     none.error().message.contains(QStringLiteral("accessible-resources")),
                 qPrintable(none.error().message));
        auto walk = ProviderCatalog::render(*jira, QStringLiteral("get_myself"), {},
                                            {{QStringLiteral("cloud_id"), QStringLiteral("..")}});
        QVERIFY(!walk);
        auto slash = ProviderCatalog::render(*jira, QStringLiteral("get_myself"), {},
                                             {{QStringLiteral("cloud_id"), QStringLiteral("a/b")}});
        QVERIFY(slash);
        QCOMPARE(slash->url,
                 QStringLiteral("https://api.atlassian.com/ex/jira/a%2Fb/rest/api/3/myself"));

        auto generic = catalog.find(QStringLiteral("http_api_key"));
        QVERIFY(generic);
        QVERIFY(generic->credentialHost.isEmpty());
        QVERIFY(generic->auth.apiKeyConfigurable);
        auto host = ProviderCatalog::resolveCredentialHost(
            *generic,
            {{QStringLiteral("base_url"), QStringLiteral("https://API.Example.com/v2/")}});
        QVERIFY(host);
        QCOMPARE(*host, QStringLiteral("api.example.com"));
        QCOMPARE(
            *ProviderCatalog::resolveBaseUrl(
                *generic, {{QStringLiteral("base_url"), QStringLiteral("https://a.example/v2/")}}),
            QStringLiteral("https://a.example/v2"));
        for (const char* bad :
             {"http://api.example.com", "ftp://api.example.com", "https://user:pw@api.example.com",
              "https://api.example.com/?a=1", "api.example.com", ""}) {
            auto r = ProviderCatalog::resolveBaseUrl(
                *generic, {{QStringLiteral("base_url"), QString::fromLatin1(bad)}});
            QVERIFY2(!r, bad);
            QCOMPARE(r.error().code, Error::Code::Validation);
        }
        // Loopback http is allowed (tests), as in manifests.
        QVERIFY(ProviderCatalog::resolveBaseUrl(
            *generic, {{QStringLiteral("base_url"), QStringLiteral("http://127.0.0.1:8080")}}));

        // A host label from the connection.
        QJsonObject o = validManifest();
        o.insert(QStringLiteral("base_url"), QStringLiteral("https://{site}.acme.example/v1"));
        o.insert(QStringLiteral("authorized_uris"),
                 QJsonArray{QStringLiteral("https://*.acme.example/v1/**")});
        o.insert(
            QStringLiteral("connection_fields"),
            QJsonArray{QJsonObject{{QStringLiteral("name"), QStringLiteral("site")},
                                   {QStringLiteral("description"), QStringLiteral("Your site")}}});
        auto sited = ProviderCatalog::parse(json(o), QStringLiteral("acme.json"));
        QVERIFY2(sited, sited ? "" : qPrintable(sited.error().toString()));
        QVERIFY(sited->credentialHost.isEmpty());
        auto r = ProviderCatalog::render(*sited, QStringLiteral("whoami"), {},
                                         {{QStringLiteral("site"), QStringLiteral("Blue")}});
        QVERIFY(r);
        QCOMPARE(r->url, QStringLiteral("https://blue.acme.example/v1/me"));
        QCOMPARE(*ProviderCatalog::resolveCredentialHost(
                     *sited, {{QStringLiteral("site"), QStringLiteral("blue")}}),
                 QStringLiteral("blue.acme.example"));
        for (const char* bad : {"evil.com/x", "a.b", "x@y", "-a", ""}) {
            QVERIFY2(!ProviderCatalog::render(*sited, QStringLiteral("whoami"), {},
                                              {{QStringLiteral("site"), QString::fromLatin1(bad)}}),
                     bad);
        }
    }

    /** Each bad manifest names exactly what is wrong, at its JSON path. */
    void badManifests_data()
    {
        QTest::addColumn<QString>("path");    ///< dotted path to change ("" = none)
        QTest::addColumn<QString>("value");   ///< JSON text; "-" removes it
        QTest::addColumn<QString>("problem"); ///< one expected line

        auto row = [](const char* name, const char* path, const char* value, const char* problem) {
            QTest::newRow(name) << QString::fromLatin1(path) << QString::fromUtf8(value)
                                << QString::fromUtf8(problem);
        };
        row("no id", "id", "-", "id: missing (a non-empty string)");
        row("bad id", "id", "\"Acme!\"", "id: \"Acme!\" must match [a-z][a-z0-9_-]*");
        row("id not string", "id", "3", "id: expected a string, got number 3");
        row("unknown key", "credentials", "{}",
            "credentials: unknown key (expected one of \"id\", \"name\", \"description\", "
            "\"docs_url\", \"base_url\", \"credential_host\", \"connection_fields\", \"headers\", "
            "\"auth\", \"authorized_uris\", \"operations\", \"test_operation\")");
        row("http base", "base_url", "\"http://api.acme.example/v1\"",
            "base_url: must use https (http only for a loopback host, in tests)");
        row("base with query", "base_url", "\"https://api.acme.example/v1?k=1\"",
            "base_url: may not have a query (?...)");
        row("base user info", "base_url", "\"https://u@api.acme.example\"",
            "base_url: may not hold user info (user@host)");
        row("base trailing slash", "base_url", "\"https://api.acme.example/v1/\"",
            "base_url: may not end with \"/\" (operation paths start with one)");
        row("base undeclared field", "base_url", "\"https://api.acme.example/{tenant}\"",
            "base_url: placeholder {tenant} is not a connection field (declare it in "
            "connection_fields)");
        row("credential host with path", "credential_host", "\"api.acme.example/x\"",
            "credential_host: \"api.acme.example/x\" is not a host name (no scheme, port or path)");
        row("no auth", "auth", "-",
            "auth: missing (an object with \"type\": \"oauth2\", \"api_key\", \"basic\" or "
            "\"none\")");
        row("auth type", "auth.type", "\"magic\"",
            "auth.type: \"magic\" is not one of \"oauth2\", \"api_key\", \"basic\", \"none\"");
        row("api key in", "auth.in", "\"cookie\"", "auth.in: must be \"header\" or \"query\"");
        row("api key header is host", "auth.name", "\"Host\"",
            "auth.name: header \"Host\" cannot carry a key");
        row("oauth without token endpoint", "auth",
            "{\"type\": \"oauth2\", \"authorization_endpoint\": \"https://a.example/auth\"}",
            "auth.token_endpoint: missing (a non-empty string)");
        row("oauth http endpoint", "auth",
            "{\"type\": \"oauth2\", \"authorization_endpoint\": \"http://a.example/auth\", "
            "\"token_endpoint\": \"https://a.example/token\"} ",
            "auth.authorization_endpoint: must use https (http only for a loopback host, in "
            "tests)");
        row("oauth reserved param", "auth",
            "{\"type\": \"oauth2\", \"authorization_endpoint\": \"https://a.example/auth\", "
            "\"token_endpoint\": \"https://a.example/token\", "
            "\"extra_authorization_params\": {\"redirect_uri\": \"https://evil.example\"}} ",
            "auth.extra_authorization_params.redirect_uri: is set by the OAuth flow itself");
        row("oauth scope with space", "auth",
            "{\"type\": \"oauth2\", \"authorization_endpoint\": \"https://a.example/auth\", "
            "\"token_endpoint\": \"https://a.example/token\", \"scopes\": [\"a b\"]} ",
            "auth.scopes[0]: a scope may not contain white space or a comma");
        row("oauth token auth", "auth",
            "{\"type\": \"oauth2\", \"authorization_endpoint\": \"https://a.example/auth\", "
            "\"token_endpoint\": \"https://a.example/token\", \"token_endpoint_auth\": \"jwt\"} ",
            "auth.token_endpoint_auth: must be one of \"client_secret_post\", "
            "\"client_secret_basic\", \"none\"");
        row("uri without path", "authorized_uris", "[\"https://api.acme.example\"]",
            "authorized_uris[0]: no path (end with / or /** to allow everything under the host)");
        row("uri bad method", "authorized_uris", "[\"FETCH https://api.acme.example/**\"]",
            "authorized_uris[0]: \"FETCH\" is not a method (* GET HEAD POST PUT PATCH DELETE "
            "OPTIONS)");
        row("uri scheme", "authorized_uris", "[\"ftp://api.acme.example/**\"]",
            "authorized_uris[0]: the scheme must be http or https");
        row("uri port", "authorized_uris", "[\"https://api.acme.example:99999/**\"]",
            "authorized_uris[0]: bad port \"99999\"");
        row("uri query", "authorized_uris", "[\"https://api.acme.example/a?b=1\"]",
            "authorized_uris[0]: user info, query or fragment in a pattern");
        row("operations not array", "operations", "{}",
            "operations: expected an array, got empty object");
        row("op name", "operations.1.name", "\"GetItem\"",
            "operations[1].name: \"GetItem\" must match [a-z][a-z0-9_]*");
        row("op name twice", "operations.2.name", "\"get_item\"",
            "operations[2].name: \"get_item\" is already an operation");
        row("op method", "operations.1.method", "\"get\"",
            "operations[1].method: \"get\" is not one of GET POST PUT PATCH DELETE (upper case)");
        row("op no writes", "operations.2.writes", "-",
            "operations[2].writes: missing: say whether the operation changes anything (true or "
            "false)");
        row("op writes not bool", "operations.2.writes", "\"yes\"",
            "operations[2].writes: expected true or false, got string \"yes\"");
        row("placeholder without parameter", "operations.1.path", "\"/items/{item_id}\"",
            "operations[1].path: placeholder {item_id} has no parameter");
        row("path parameter not in path", "operations.1.parameters.properties.verbose",
            "{\"type\": \"boolean\", \"x-in\": \"path\"}",
            "operations[1].parameters.properties.verbose: is a path parameter but the path has "
            "no {verbose}");
        row("path relative", "operations.1.path", "\"items/{id}\"",
            "operations[1].path: must start with \"/\" (it is appended to base_url)");
        row("path braces", "operations.1.path", "\"/items/{id\"",
            "operations[1].path: unbalanced { } in the template");
        row("path dotdot", "operations.1.path", "\"/items/../{id}\"",
            "operations[1].path: has a \".\" or \"..\" segment");
        row("path with query", "operations.1.path", "\"/items/{id}?full=1\"",
            "operations[1].path: may not hold a query or fragment: use x-in \"query\" "
            "parameters or the operation's \"query\"");
        row("path space", "operations.1.path", "\"/my items/{id}\"",
            "operations[1].path: \"/my items/\" has characters that must be percent-encoded");
        row("path param optional", "operations.1.parameters.required", "[]",
            "operations[1].parameters.properties.id: is a path parameter, so it must be required");
        row("path param object", "operations.1.parameters.properties.id", "{\"type\": \"object\"}",
            "operations[1].parameters.properties.id: a path parameter needs a scalar type "
            "(string, integer, number, boolean or an enum)");
        row("x-in unknown", "operations.2.parameters.properties.title",
            "{\"type\": \"string\", \"x-in\": \"cookie\"}",
            "operations[2].parameters.properties.title.x-in: must be one of \"path\", \"query\", "
            "\"body\", \"header\", got string \"cookie\"");
        row("body on GET", "operations.1.parameters.properties.verbose",
            "{\"type\": \"boolean\", \"x-in\": \"body\"}",
            "operations[1].parameters.properties.verbose: a GET request has no body; use x-in "
            "\"query\"");
        row("header credential", "operations.2.parameters.properties.title",
            "{\"type\": \"string\", \"x-in\": \"header\", \"x-name\": \"Authorization\"}",
            "operations[2].parameters.properties.title: header \"Authorization\" may not be set: "
            "it "
            "carries credentials, which come from the connection");
        row("reserved connection", "operations.2.parameters.properties.connection",
            "{\"type\": \"string\"}",
            "operations[2].parameters.properties.connection: \"connection\" is reserved: the "
            "runner "
            "adds it when an agent has several connections of the provider");
        row("required unknown", "operations.2.parameters.required", "[\"title\", \"body\"]",
            "operations[2].parameters.required[1]: string \"body\" is not a property");
        row("parameters not object type", "operations.2.parameters.type", "\"array\"",
            "operations[2].parameters.type: must be \"object\"");
        row("additional properties", "operations.2.parameters.additionalProperties", "true",
            "operations[2].parameters.additionalProperties: must be false: every argument needs a "
            "place in the request");
        row("top-level anyOf", "operations.2.parameters.anyOf", "[{\"required\": [\"title\"]}]",
            "operations[2].parameters.anyOf: not allowed at the top of a tool's parameters (model "
            "APIs refuse it); describe the alternatives instead");
        row("argument name", "operations.2.parameters.properties.Idempotency Key",
            "{\"type\": \"string\", \"x-in\": \"header\"}",
            "operations[2].parameters.properties.Idempotency Key: an argument name holds letters, "
            "digits, _ . - (at most 64): model APIs refuse others; put the wire name in x-name");
        row("x-body", "operations.2.parameters.x-body", "\"xml\"",
            "operations[2].parameters.x-body: must be \"json\" or \"form\"");
        row("fixed header host", "operations.2.headers", "{\"Host\": \"evil.example\"}",
            "operations[2].headers.Host: may not be set: it is set by the broker");
        row("manifest header cookie", "headers", "{\"Cookie\": \"a=b\"}",
            "headers.Cookie: may not be set: it carries credentials, which come from the "
            "connection");
        row("test op unknown", "test_operation", "\"ping\"",
            "test_operation: \"ping\" is not an operation");
        row("test op needs args", "test_operation", "\"get_item\"",
            "test_operation: \"get_item\" has required parameters; the test call has none");
        row("test op writes", "operations.0.writes", "true",
            "test_operation: \"whoami\" writes; a test must not change anything");
    }
    void badManifests()
    {
        QFETCH(QString, path);
        QFETCH(QString, value);
        QFETCH(QString, problem);
        QJsonObject o = validManifest();
        const QByteArray text = value.toUtf8();
        const QJsonValue v = value == QLatin1String("-") ? QJsonValue(QJsonValue::Undefined)
                                                         : fromText(text.constData());
        QVERIFY2(value == QLatin1String("-") || !v.isUndefined(), "the test's JSON is invalid");
        o = setAt(o, path.split(QLatin1Char('.')), v).toObject();
        auto m = ProviderCatalog::parse(json(o), QStringLiteral("acme.json"));
        QVERIFY(!m);
        QCOMPARE(m.error().code, Error::Code::Validation);
        QVERIFY2(m.error().message.startsWith(QStringLiteral("acme.json: ")),
                 qPrintable(m.error().message));
        QVERIFY2(m.error().details.contains(problem),
                 qPrintable(QStringLiteral("expected \"%1\" in:\n%2")
                                .arg(problem, m.error().details.join(QLatin1Char('\n')))));
    }

    void allProblemsAtOnce()
    {
        QJsonObject o = validManifest();
        o.remove(QStringLiteral("name"));
        o = setAt(o, {QStringLiteral("operations"), QStringLiteral("1"), QStringLiteral("path")},
                  QStringLiteral("/items/{item}"))
                .toObject();
        o.insert(QStringLiteral("base_url"), QStringLiteral("ftp://x.example"));
        auto m = ProviderCatalog::parse(json(o), QStringLiteral("acme.json"));
        QVERIFY(!m);
        QVERIFY2(m.error().details.size() >= 3, qPrintable(m.error().toString()));
        QCOMPARE(m.error().message,
                 QStringLiteral("acme.json: %1 problems in the provider manifest")
                     .arg(m.error().details.size()));
        QVERIFY(m.error().details.contains(QStringLiteral("name: missing (a non-empty string)")));
        QVERIFY(m.error().details.contains(
            QStringLiteral("operations[1].path: placeholder {item} has no parameter")));
        QVERIFY(
            m.error().details.contains(QStringLiteral("base_url: must use https, not \"ftp\"")));
    }

    void notJson()
    {
        auto m = ProviderCatalog::parse("{\n  \"id\": \"x\",\n  oops\n}", QStringLiteral("x.json"));
        QVERIFY(!m);
        QCOMPARE(m.error().code, Error::Code::Parse);
        QVERIFY2(m.error().message.startsWith(QStringLiteral("x.json:3:")),
                 qPrintable(m.error().message));
        auto array = ProviderCatalog::parse("[]", QStringLiteral("x.json"));
        QVERIFY(!array);
        QCOMPARE(array.error().message,
                 QStringLiteral("x.json: a provider manifest is a JSON object"));
        auto dup =
            ProviderCatalog::parse("{\"id\": \"a\", \"id\": \"b\"}", QStringLiteral("x.json"));
        QVERIFY(!dup);
        QCOMPARE(dup.error().details, QStringList{QStringLiteral("/id (line 1): key given twice")});
    }

    void userDirectory()
    {
        QTemporaryDir dir;
        QVERIFY(dir.isValid());
        auto write = [&](const QString& name, const QByteArray& bytes) {
            QFile f(dir.filePath(name));
            QVERIFY(f.open(QIODevice::WriteOnly));
            f.write(bytes);
        };
        // Replaces the built-in gmail.
        QFile builtIn(QStringLiteral(":/vivarium/providers/gmail.json"));
        QVERIFY(builtIn.open(QIODevice::ReadOnly));
        QJsonObject gmail = QJsonDocument::fromJson(builtIn.readAll()).object();
        gmail.insert(QStringLiteral("name"), QStringLiteral("Gmail (mine)"));
        write(QStringLiteral("gmail.json"), json(gmail));
        // A new one.
        write(QStringLiteral("acme.json"), json(validManifest()));
        // Broken: reported, skipped.
        QJsonObject broken = validManifest();
        broken.insert(QStringLiteral("id"), QStringLiteral("broken"));
        broken.insert(QStringLiteral("base_url"), QStringLiteral("http://api.acme.example"));
        write(QStringLiteral("broken.json"), json(broken));
        // Its id is not its name.
        QJsonObject other = validManifest();
        other.insert(QStringLiteral("id"), QStringLiteral("other"));
        write(QStringLiteral("renamed.json"), json(other));
        write(QStringLiteral("garbage.json"), "not json");
        write(QStringLiteral("notes.txt"), "ignored");

        const ProviderCatalog catalog = ProviderCatalog::load(dir.path());
        const auto mine = catalog.find(QStringLiteral("gmail"));
        QVERIFY(mine);
        QCOMPARE(mine->name, QStringLiteral("Gmail (mine)"));
        QVERIFY(!mine->builtIn);
        QCOMPARE(mine->sourcePath, dir.filePath(QStringLiteral("gmail.json")));
        QVERIFY(catalog.find(QStringLiteral("acme")));
        QVERIFY(!catalog.find(QStringLiteral("broken")));
        QVERIFY(!catalog.find(QStringLiteral("other")));
        QVERIFY(catalog.find(QStringLiteral("slack"))->builtIn);
        QCOMPARE(catalog.manifests().size(), ShippedIds.size() + 1);

        const QStringList problems = catalog.problems();
        QCOMPARE(problems.size(), 3);
        QVERIFY2(problems.at(0).startsWith(dir.filePath(QStringLiteral("broken.json"))) &&
                     problems.at(0).contains(QStringLiteral("base_url: must use https")) &&
                     problems.at(0).endsWith(QStringLiteral("; skipped")),
                 qPrintable(problems.at(0)));
        QVERIFY2(problems.at(1).startsWith(dir.filePath(QStringLiteral("garbage.json"))) &&
                     problems.at(1).contains(QStringLiteral("not valid JSON")),
                 qPrintable(problems.at(1)));
        QVERIFY2(problems.at(2).contains(QStringLiteral("the id \"other\" is not the file's name "
                                                        "(renamed.json)")),
                 qPrintable(problems.at(2)));

        // A missing directory is simply no user manifests.
        const ProviderCatalog none = ProviderCatalog::load(dir.filePath(QStringLiteral("nope")));
        QVERIFY(none.problems().isEmpty());
        QCOMPARE(none.manifests().size(), ShippedIds.size());
    }
};

QTEST_GUILESS_MAIN(TestProviderCatalog)
#include "tst_ProviderCatalog.moc"
