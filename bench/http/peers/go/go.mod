module acobench/httppeer

go 1.19
