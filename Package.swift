// swift-tools-version:6.1
import PackageDescription

let swiftSettings: [SwiftSetting] = [
    .swiftLanguageMode(.v6),
    .enableUpcomingFeature("ExistentialAny"),
    .enableUpcomingFeature("MemberImportVisibility"),
    .enableUpcomingFeature("InternalImportsByDefault"),
    .enableUpcomingFeature("NonisolatedNonsendingByDefault"),
]

let package = Package(
    name: "BackgroundJobs",
    platforms: [.macOS(.v15)],
    products: [
        .library(name: "BackgroundJobs", targets: ["BackgroundJobs"]),
        .library(name: "BackgroundJobsRedis", targets: ["BackgroundJobsRedis"]),
        .library(name: "BackgroundJobsTesting", targets: ["BackgroundJobsTesting"]),
        .library(name: "BackgroundJobsPrometheus", targets: ["BackgroundJobsPrometheus"]),
        // The built-in handlers, each family a module of its own so an application pulls in (and installs
        // the system libraries of) only what it uses; BackgroundJobsHandlers brings them all.
        .library(name: "BackgroundJobsHandlers", targets: ["BackgroundJobsHandlers"]),
        .library(name: "BackgroundJobsEmail", targets: ["BackgroundJobsEmail"]),
        .library(name: "BackgroundJobsFiles", targets: ["BackgroundJobsFiles"]),
        .library(name: "BackgroundJobsCleanup", targets: ["BackgroundJobsCleanup"]),
        .library(name: "BackgroundJobsNotifications", targets: ["BackgroundJobsNotifications"]),
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
        .package(url: "https://github.com/swift-server/swift-service-lifecycle.git", from: "2.6.0"),
        .package(url: "https://github.com/jpsim/Yams.git", from: "6.0.0"),
        .package(url: "https://github.com/swift-server/swift-prometheus.git", from: "2.1.0"),
        .package(url: "https://github.com/x-sheep/swift-property-based.git", from: "2.0.1"),
        .package(url: "https://github.com/apple/swift-nio.git", from: "2.80.0"),
        .package(url: "https://github.com/apple/swift-nio-ssl.git", from: "2.30.0"),
        .package(url: "https://github.com/hummingbird-project/swift-mustache.git", from: "2.0.0"),
        .package(url: "https://github.com/swift-server/async-http-client.git", from: "1.25.0"),
        .package(url: "https://github.com/apple/swift-crypto.git", "3.0.0"..<"5.0.0"),
        .package(url: "https://github.com/swiftlang/swift-subprocess.git", from: "1.0.0"),
        .package(url: "https://github.com/apple/swift-system.git", from: "1.4.0"),
        .package(url: "https://github.com/adam-fowler/compress-nio.git", from: "1.5.0"),
    ],
    targets: [
        .target(
            name: "BackgroundJobsDomain",
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsCore",
            dependencies: [
                "BackgroundJobsDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsPrometheus",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsTesting",
            dependencies: ["BackgroundJobsCore", "BackgroundJobsDomain"],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CHiredis",
            pkgConfig: "hiredis",
            providers: [.apt(["libhiredis-dev"])]
        ),
        .target(
            name: "BackgroundJobsRedis",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "CHiredis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobs",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsPrometheus",
                "BackgroundJobsRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .systemLibrary(
            name: "CVips",
            pkgConfig: "vips",
            providers: [.apt(["libvips-dev"])]
        ),
        .target(
            name: "BackgroundJobsEmail",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOSSL", package: "swift-nio-ssl"),
                .product(name: "Mustache", package: "swift-mustache"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsFiles",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "CVips",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "Subprocess", package: "swift-subprocess"),
                .product(name: "SystemPackage", package: "swift-system"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsCleanup",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "CompressNIO", package: "compress-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsNotifications",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Crypto", package: "swift-crypto"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .target(
            name: "BackgroundJobsHandlers",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsEmail",
                "BackgroundJobsFiles",
                "BackgroundJobsCleanup",
                "BackgroundJobsNotifications",
                "BackgroundJobsRedis",
                "BackgroundJobs",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Yams", package: "Yams"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsHandlersTests",
            dependencies: [
                "BackgroundJobs",
                "BackgroundJobsHandlers",
                "BackgroundJobsNotifications",
                "BackgroundJobsCleanup",
                "BackgroundJobsEmail",
                "BackgroundJobsFiles",
                "BackgroundJobsRedis",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsTesting",
                .product(name: "AsyncHTTPClient", package: "async-http-client"),
                .product(name: "Logging", package: "swift-log"),
                .product(name: "NIOCore", package: "swift-nio"),
                .product(name: "NIOPosix", package: "swift-nio"),
                .product(name: "NIOHTTP1", package: "swift-nio"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsDomainTests",
            dependencies: [
                "BackgroundJobsDomain",
                .product(name: "PropertyBased", package: "swift-property-based"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsCoreTests",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsTesting",
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsPrometheusTests",
            dependencies: [
                "BackgroundJobsPrometheus",
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsTesting",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "Prometheus", package: "swift-prometheus"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsTests",
            dependencies: ["BackgroundJobs"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsRedisTests",
            dependencies: ["BackgroundJobsRedis", "BackgroundJobsCore", "BackgroundJobsDomain"],
            swiftSettings: swiftSettings
        ),
        // A worker process for the crash tests, which kill it with SIGKILL; only the tests use it.
        .executableTarget(
            name: "BackgroundJobsTestWorker",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsRedis",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            path: "Tests/TestWorker",
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisIntegrationTests",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsRedis",
                "BackgroundJobsTesting",
                "BackgroundJobs",
                .product(name: "Logging", package: "swift-log"),
                .product(name: "ServiceLifecycle", package: "swift-service-lifecycle"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
