{
  "targets": [
    {
      "target_name": "hugepages",
      "sources": ["hugepages.c"],
      "cflags": ["-O2", "-Wall", "-Wextra"]
    }
  ]
}
