// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "vivarium/engine/Engine.h"
#include "vivarium/ui/MainWindow.h"

#include <QApplication>
#include <QCommandLineParser>
#include <QMessageBox>

int main(int argc, char** argv)
{
    QApplication app(argc, argv);
    QApplication::setApplicationName(QStringLiteral("vivarium"));
    QApplication::setApplicationDisplayName(QStringLiteral("Vivarium"));
    QApplication::setApplicationVersion(QStringLiteral(VIVARIUM_VERSION));

    QCommandLineParser parser;
    parser.setApplicationDescription(QStringLiteral("Vivarium desktop app"));
    parser.addHelpOption();
    parser.addVersionOption();
    const QCommandLineOption dataDir(QStringLiteral("data-dir"), QStringLiteral("Data directory."),
                                     QStringLiteral("DIR"));
    parser.addOption(dataDir);
    parser.process(app);

    vivarium::Engine engine(
        vivarium::Paths(vivarium::Paths::resolveDataDir(parser.value(dataDir))));
    if (auto ok = engine.start(); !ok) {
        QMessageBox::critical(nullptr, QObject::tr("Vivarium cannot start"), ok.error().toString());
        return 1;
    }
    vivarium::MainWindow window(engine.store(), engine.paths().dataDir());
    window.show();
    return QApplication::exec();
}
