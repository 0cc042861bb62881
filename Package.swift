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
    ],
    dependencies: [
        .package(url: "https://github.com/apple/swift-log.git", from: "1.6.0"),
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
            ],
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
                "BackgroundJobsRedis",
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsDomainTests",
            dependencies: ["BackgroundJobsDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsCoreTests",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "BackgroundJobsRedisTests",
            dependencies: ["BackgroundJobsRedis", "BackgroundJobsDomain"],
            swiftSettings: swiftSettings
        ),
        .testTarget(
            name: "RedisIntegrationTests",
            dependencies: [
                "BackgroundJobsCore",
                "BackgroundJobsDomain",
                "BackgroundJobsRedis",
                .product(name: "Logging", package: "swift-log"),
            ],
            swiftSettings: swiftSettings
        ),
    ]
)
