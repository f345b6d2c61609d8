// SPDX-License-Identifier: GPL-3.0-or-later
// SPDX-FileCopyrightText: 2026 The Vivarium authors
#include "Cli.h"

#include <QCoreApplication>

int main(int argc, char** argv)
{
    QCoreApplication app(argc, argv);
    QCoreApplication::setApplicationName(QStringLiteral("vivarium"));
    QCoreApplication::setApplicationVersion(QStringLiteral(VIVARIUM_VERSION));
    return vivarium::cli::run(argc, argv);
}
